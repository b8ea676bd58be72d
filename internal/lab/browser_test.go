package lab_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/rampart-scan/rampart/internal/cli"
)

var update = flag.Bool("update", false, "write the HTML report's screenshot to docs/")

// TestHTMLReportInBrowser renders the demo's HTML report in headless
// Chromium: no console errors, the key elements visible. It skips only when
// RAMPART_CHROMIUM is unset (.ci/run sets it and fails if this test skipped).
func TestHTMLReportInBrowser(t *testing.T) {
	bin := os.Getenv("RAMPART_CHROMIUM")
	if bin == "" {
		t.Skip("RAMPART_CHROMIUM is unset")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var out, errb bytes.Buffer
	if code := cli.Run(context.Background(), []string{"demo", "--active", "--rate", "0", "--format", "html", "--output", "html=" + page}, &out, &errb); code != cli.ExitOK {
		t.Fatalf("demo exit %d: %s", code, errb.String())
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless,
		chromedp.DisableGPU, chromedp.UserDataDir(filepath.Join(dir, "profile")), chromedp.WindowSize(1200, 1100),
		chromedp.Flag("disable-component-update", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				problems = append(problems, "console "+string(e.Type))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				problems = append(problems, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		}
	}); err != nil {
		t.Fatalf("browser: %v", err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("log.enable: %v", err)
	}
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("runtime.enable: %v", err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+page),
		chromedp.WaitVisible(chromedp.ID("grade")),
		chromedp.WaitVisible(chromedp.CSS("#categories .bar")),
		chromedp.WaitVisible(chromedp.CSS("#findings details.finding")),
		chromedp.WaitVisible(chromedp.ID("settings")),
		chromedp.Click(chromedp.CSS("#findings details.finding summary")),
		chromedp.WaitVisible(chromedp.CSS("#findings details.finding[open] pre")),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	grade, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#grade b")))
	if err != nil {
		t.Fatal(err)
	}
	title, _ := chromedp.Run(ctx, chromedp.Title())
	findings, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#findings details.finding").length`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("console: %s", strings.Join(problems, "; "))
	}
	if !strings.Contains("ABCDF", grade) || grade == "" || !strings.HasPrefix(title, "Rampart report") || findings < 10 {
		t.Errorf("grade %q title %q findings %d", grade, title, findings)
	}
	dest := filepath.Join(dir, "report.png")
	if *update {
		dest = filepath.Join("..", "..", "docs", "report.png")
	}
	if err := os.WriteFile(dest, shot, 0o644); err != nil {
		t.Fatal(err)
	}
}
