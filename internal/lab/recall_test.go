package lab_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks"
	"github.com/rampart-scan/rampart/internal/cli"
	"github.com/rampart-scan/rampart/internal/lab"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/report"
)

func demo(t *testing.T, args ...string) (*report.Report, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), append([]string{"demo", "--format", "json", "--rate", "0", "--max-duration", "3m"}, args...), &out, &errb)
	if code != cli.ExitOK && code != cli.ExitGate {
		t.Fatalf("demo exit %d: %s", code, errb.String())
	}
	if err := report.Validate(out.Bytes()); err != nil {
		t.Fatalf("report: %v", err)
	}
	var r report.Report
	json.Unmarshal(out.Bytes(), &r)
	return &r, code
}

func found(f lab.Flaw, fs []check.Finding) bool {
	for _, x := range fs {
		if x.Rule != f.Rule {
			continue
		}
		if f.Method == "*" || x.Method == "*" && f.Method == "*" {
			return true
		}
		if x.Method == f.Method && (x.Path == f.Path || plan.MatchTemplate(f.Path, x.Path)) {
			return true
		}
		for _, a := range x.Affected {
			if a.Method == f.Method && a.Path == f.Path {
				return true
			}
		}
	}
	return false
}

// TestManifestRecallAndPrecision computes recall on the vulnerable twin and
// precision on the hardened twin from the lab's manifest, not by hand.
func TestManifestRecallAndPrecision(t *testing.T) {
	cat, err := checks.Catalogue(checks.All())
	if err != nil {
		t.Fatal(err)
	}
	for _, active := range []bool{true, false} {
		args := []string{}
		if active {
			args = append(args, "--active")
		}
		vuln, _ := demo(t, args...)
		asserted, hits := 0, 0
		for _, f := range lab.Manifest() {
			if _, ok := cat.Lookup(f.Rule); !ok {
				continue // listed, not yet asserted
			}
			got := found(f, vuln.Findings)
			if f.Deep {
				continue // asserted by TestDeepFlaws
			}
			if f.Active && !active {
				if got {
					t.Errorf("%s %s %s needs --active but was reported without it", f.Rule, f.Method, f.Path)
				}
				continue
			}
			asserted++
			if got {
				hits++
			} else {
				t.Errorf("active=%v: missed %s %s %s (%s)", active, f.Rule, f.Method, f.Path, f.Note)
			}
		}
		t.Logf("active=%v: recall %d/%d", active, hits, asserted)
		if asserted == 0 {
			t.Fatal("no manifest flaw asserted")
		}
		hard, _ := demo(t, append(args, "--mode", "hardened")...)
		for _, f := range hard.Findings {
			if f.Severity > check.Low {
				t.Errorf("active=%v: hardened twin: %s %s %s %s", active, f.Severity, f.Rule, f.Method, f.Path)
			}
		}
		if hard.Score == nil || *hard.Score < 90 {
			t.Errorf("hardened score %v", hard.Score)
		}
	}
}

func TestDemoRefusesTargetsAndSpecs(t *testing.T) {
	for _, args := range [][]string{{"demo", "http://127.0.0.1:1"}, {"demo", "--spec", "x.yaml"}, {"demo", "--mode", "broken"}, {"demo", "--addr", "10.0.0.1:80"}} {
		var out, errb bytes.Buffer
		if code := cli.Run(context.Background(), args, &out, &errb); code != cli.ExitUsage {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

func TestDemoGateAndIdentityMerge(t *testing.T) {
	// The user's identity replaces the lab's of the same name: tenant_a with a wrong key
	// can no longer read anything, so no finding is attributed to it.
	r, code := demo(t, "--identity", "tenant_a=Authorization: Bearer not-a-key", "--fail-on", "high")
	if code != cli.ExitGate {
		t.Fatalf("a critical finding must fail --fail-on high: exit %d", code)
	}
	for _, f := range r.Findings {
		if f.Identity == "tenant_a" {
			t.Errorf("finding from the replaced identity: %+v", f)
		}
	}
	if !strings.Contains(r.Target, "127.0.0.1") {
		t.Fatal("demo must target the loopback lab")
	}
}

func TestPrintConfig(t *testing.T) {
	var out, errb bytes.Buffer
	if code := cli.Run(context.Background(), []string{"lab", "--print-config", "--addr", "127.0.0.1:9999"}, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	for _, want := range []string{"target: http://127.0.0.1:9999", "tenant_a_key", "login:", "role: admin", lab.SigningKey} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config lacks %q", want)
		}
	}
}

func TestLabServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"lab", "--mode", "hardened", "--addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url := strings.TrimSpace(line[strings.Index(line, "http://"):])
	resp, err := http.Get(url + "/openapi.yaml")
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("lab not serving: %v %v", resp, err)
	}
	resp.Body.Close()
	go io.Copy(io.Discard, pr)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("lab exit %d", code)
	}
}

// TestDeepFlaws runs the deep probes (uploads, timing) on both twins.
func TestDeepFlaws(t *testing.T) {
	var only []string
	var deep []lab.Flaw
	for _, f := range lab.Manifest() {
		if f.Deep {
			deep = append(deep, f)
			only = append(only, "--only", f.Rule)
		}
	}
	vuln, _ := demo(t, append([]string{"--active", "--depth", "deep"}, only...)...)
	for _, f := range deep {
		if !found(f, vuln.Findings) {
			t.Errorf("missed %s %s %s (%s)", f.Rule, f.Method, f.Path, f.Note)
		}
	}
	hard, _ := demo(t, append([]string{"--active", "--depth", "deep", "--mode", "hardened"}, only...)...)
	for _, f := range hard.Findings {
		if f.Severity > check.Low {
			t.Errorf("hardened: %s %s %s", f.Rule, f.Method, f.Path)
		}
	}
}
