// Package integration scans independently written targets end to end.
package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks"
	"github.com/rampart-scan/rampart/internal/cli"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/report"
)

// ledgerDir is ../shared/targets/ledger next to the repository.
func ledgerDir(t *testing.T) string {
	t.Helper()
	wd, _ := os.Getwd()
	for dir := wd; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", "targets", "ledger")
			if _, err := os.Stat(filepath.Join(p, "expected.json")); err != nil {
				t.Skip("../shared/targets/ledger is absent")
			}
			return p
		}
	}
	t.Skip("repository root not found")
	return ""
}

// buildLedger compiles the target once per test run.
func buildLedger(t *testing.T, src string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ledger")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build ledger: %v\n%s", err, out)
	}
	return bin
}

// startLedger runs one fresh instance on a free loopback port; it is killed by process group at cleanup.
func startLedger(t *testing.T, bin, mode string) string {
	t.Helper()
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-mode", mode)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line := <-lines:
		url := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
		if !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Fatalf("ledger said %q", line)
		}
		return url
	case <-time.After(20 * time.Second):
		t.Fatal("ledger did not start")
	}
	return ""
}

func ledgerConfig(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	key, err := exec.Command(bin, "-print-private-key").Output()
	if err != nil {
		t.Fatalf("print key: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ledger-signing-key.pem"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	login := func(email, pw string) string {
		return fmt.Sprintf(`    login:
      method: POST
      url: /v2/auth/login
      json: {email: %q, password: %q}
      token: /access_token
      header: "Authorization: Bearer {token}"
`, email, pw)
	}
	cfg := `identities:
  - name: acme
    role: user
    tenant: [org_7d41, acme]
    headers: {Authorization: "ApiKey lk_live_acme_4c2f9e1a7b3d8061"}
  - name: globex
    role: user
    tenant: [org_9b20, globex]
    headers: {Authorization: "ApiKey lk_live_globex_9d7e3b5a1c0f2468"}
  - name: maya
    role: user
    tenant: [org_7d41, acme]
` + login("maya@acme.test", "TeaKettle-4471") + `  - name: li
    role: user
    tenant: [org_9b20, globex]
` + login("li@globex.test", "Paper-Crane-5150") + `  - name: admin
    role: admin
` + login("admin@ledger.test", "Ops-Console-9901") + `jwt: {private_key: ledger-signing-key.pem}
`
	p := filepath.Join(dir, "ledger.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type expectation struct {
	Rule   string `json:"rule"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Note   string `json:"note"`
}

// matches: same rule; '*' on either side matches any operation; {name} segments match each other.
func matches(e expectation, f check.Finding) bool {
	if e.Rule != f.Rule {
		return false
	}
	if e.Method == "*" || f.Method == "*" {
		if f.Method == "*" && e.Method != "*" && len(f.Affected) > 0 {
			for _, a := range f.Affected {
				if a.Method == e.Method && samePath(e.Path, a.Path) {
					return true
				}
			}
			return false
		}
		return true
	}
	return e.Method == f.Method && samePath(e.Path, f.Path)
}

func samePath(a, b string) bool {
	norm := func(p string) string {
		segs := strings.Split(p, "/")
		for i, s := range segs {
			if strings.HasPrefix(s, "{") {
				segs[i] = "{}"
			}
		}
		return strings.Join(segs, "/")
	}
	return norm(a) == norm(b) || plan.MatchTemplate(a, b) || plan.MatchTemplate(b, a)
}

func scanLedger(t *testing.T, url, cfg string) *report.Report {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), []string{"scan", url, "--spec", url + "/openapi.yaml", "--config", cfg, "--active",
		"--format", "json", "--rate", "0", "--max-duration", "3m", "--llm-delay", "0"}, &out, &errb)
	if code != cli.ExitOK && code != cli.ExitIncomplete {
		t.Fatalf("scan exit %d: %s", code, errb.String())
	}
	if code == cli.ExitIncomplete {
		t.Logf("scan incomplete: %s", errb.String())
	}
	if err := report.Validate(out.Bytes()); err != nil {
		t.Fatalf("report invalid: %v", err)
	}
	var r report.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestLedger is the standing integration test: recall against ledger's answer key
// for every rule in the catalogue (vulnerable mode), and nothing above low (hardened mode).
func TestLedger(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	src := ledgerDir(t)
	bin := buildLedger(t, src)
	cfg := ledgerConfig(t, bin)
	var key struct {
		Vulnerable []expectation `json:"vulnerable"`
	}
	data, err := os.ReadFile(filepath.Join(src, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &key); err != nil {
		t.Fatal(err)
	}
	cat, err := checks.Catalogue(checks.All())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("vulnerable", func(t *testing.T) {
		r := scanLedger(t, startLedger(t, bin, "vulnerable"), cfg)
		asserted, found := 0, 0
		for _, e := range key.Vulnerable {
			if _, ok := cat.Lookup(e.Rule); !ok {
				t.Logf("not yet in the catalogue: %s %s %s", e.Rule, e.Method, e.Path)
				continue
			}
			asserted++
			hit := false
			for _, f := range r.Findings {
				if matches(e, f) {
					hit = true
					break
				}
			}
			if hit {
				found++
			} else {
				t.Errorf("missed %s %s %s: %s", e.Rule, e.Method, e.Path, e.Note)
			}
		}
		t.Logf("ledger recall: %d/%d asserted expectations (%d in the answer key)", found, asserted, len(key.Vulnerable))
	})

	t.Run("hardened", func(t *testing.T) {
		r := scanLedger(t, startLedger(t, bin, "hardened"), cfg)
		for _, f := range r.Findings {
			if f.Severity > check.Low {
				t.Errorf("false positive in hardened mode: %s %s %s %s (%s)", f.Severity, f.Rule, f.Method, f.Path, f.Detail)
			}
		}
	})
}
