package lab_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-scan/rampart/internal/checks/llm"
	"github.com/rampart-scan/rampart/internal/cli"
	"github.com/rampart-scan/rampart/internal/lab"
	"github.com/rampart-scan/rampart/internal/report"
)

// TestEveryProbeAgainstHardenedAssistant sends the whole corpus (deep tier,
// --active) to the hardened assistant and asserts that every probe was sent
// and nothing was reported.
func TestEveryProbeAgainstHardenedAssistant(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	l := lab.New(lab.Hardened)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/support/assistant" {
			body, _ := io.ReadAll(r.Body)
			var in struct{ Message string }
			json.Unmarshal(body, &in)
			mu.Lock()
			sent = append(sent, in.Message)
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		l.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "rampart.yaml")
	os.WriteFile(cfg, []byte(lab.Config(srv.URL)), 0o600)
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), []string{"scan", "--config", cfg, "--only", "llm", "--active", "--llm-tier", "deep",
		"--llm-delay", "0", "--format", "json", "--max-duration", "3m"}, &out, &errb)
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r report.Report
	json.Unmarshal(out.Bytes(), &r)
	for _, f := range r.Findings {
		t.Errorf("hardened assistant: %s %s %s: %s", f.Severity, f.Rule, f.Path, f.Detail)
	}
	probes, _ := llm.Corpus("")
	all := strings.Join(sent, "\n\x00")
	for _, p := range probes {
		for _, turn := range p.Turns {
			prefix, _, _ := strings.Cut(turn, "{")
			if len(prefix) > 40 {
				prefix = prefix[:40]
			}
			if !strings.Contains(all, prefix) {
				t.Errorf("probe %s was not sent (%q)", p.ID, prefix)
			}
		}
	}
	t.Logf("%d requests to the hardened assistant for %d probes", len(sent), len(probes))
}

// TestDemoFormats renders the demo in every format in one scan and validates its SARIF against the schema.
func TestDemoFormats(t *testing.T) {
	dir := t.TempDir()
	args := []string{"demo", "--format", "sarif", "--rate", "0", "--max-duration", "3m", "--only", "authn", "--only", "bola"}
	for _, f := range []string{"json", "html", "markdown", "junit", "github", "text"} {
		args = append(args, "--output", f+"="+filepath.Join(dir, "report."+f))
	}
	var out, errb bytes.Buffer
	if code := cli.Run(context.Background(), args, &out, &errb); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, f := range []string{"json", "html", "markdown", "junit", "github", "text"} {
		if b, err := os.ReadFile(filepath.Join(dir, "report."+f)); err != nil || len(b) < 100 {
			t.Errorf("%s: %v (%d bytes)", f, err, len(b))
		}
	}
	schema := filepath.Join("..", "..", "..", "shared", "data", "sarif-schema-2.1.0.json")
	if _, err := os.Stat(schema); err != nil {
		t.Skip("../shared/data/sarif-schema-2.1.0.json is absent")
	}
	if err := report.ValidateSARIF(out.Bytes(), schema); err != nil {
		t.Fatalf("demo SARIF: %v", err)
	}
	if !strings.Contains(out.String(), `"uri": "rampart.yaml"`) {
		t.Error("results without a local spec point at rampart.yaml")
	}
}
