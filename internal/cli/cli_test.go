package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/report"
)

// notesAPI is a small API with two tenants' keys; it counts requests and refuses writes.
type notesAPI struct {
	requests atomic.Int64
	writes   atomic.Int64
	delay    time.Duration
}

func (n *notesAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.requests.Add(1)
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		n.writes.Add(1)
	}
	if n.delay > 0 {
		select {
		case <-time.After(n.delay):
		case <-r.Context().Done():
			return
		}
	}
	owner := map[string]string{"key-alice-123456": "alice", "key-bob-654321": "bob"}[r.Header.Get("X-API-Key")]
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/api/notes" && owner != "":
		fmt.Fprintf(w, `[{"id":%d,"owner":%q}]`, map[string]int{"alice": 1, "bob": 2}[owner], owner)
	case strings.HasPrefix(r.URL.Path, "/api/notes/") && owner != "":
		fmt.Fprintf(w, `{"id":%q,"owner":%q}`, strings.TrimPrefix(r.URL.Path, "/api/notes/"), owner)
	case strings.HasPrefix(r.URL.Path, "/api/notes"):
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":"unauthorized"}`)
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":"not found"}`)
	}
}

func run(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

var fast = []string{"--rate", "0", "--max-duration", "3m", "--seed", "1", "--llm-delay", "0"}

func TestScanEndToEnd(t *testing.T) {
	api := &notesAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	dir := t.TempDir()
	args := append([]string{"scan", srv.URL, "--spec", "testdata/notes.yaml",
		"--identity", "alice=X-API-Key: key-alice-123456", "--identity", "bob=X-API-Key: key-bob-654321",
		"--tenant", "alice=t1,acme", "--role", "bob=user",
		"--format", "json", "--output", "text=" + filepath.Join(dir, "r.txt"), "--output", "json=" + filepath.Join(dir, "r.json"),
		"--har", filepath.Join(dir, "scan.har")}, fast...)
	code, stdout, stderr := run(t, context.Background(), args...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if err := report.Validate([]byte(stdout)); err != nil {
		t.Fatalf("report does not match the schema: %v\n%s", err, stdout)
	}
	var r report.Report
	json.Unmarshal([]byte(stdout), &r)
	if len(r.Categories) != 12 || r.Target != srv.URL+"/api" || r.Spec == nil || len(r.Options.Identities) != 2 {
		t.Fatalf("report: %+v", r)
	}
	if r.Options.Identities[0].Name != "alice" || strings.Join(r.Options.Identities[0].Tenant, ",") != "t1,acme" {
		t.Errorf("identities: %+v", r.Options.Identities)
	}
	if len(r.SkippedOperations) != 1 || r.SkippedOperations[0].Path != "/admin/reset" {
		t.Errorf("skipped: %+v", r.SkippedOperations)
	}
	if api.writes.Load() != 0 {
		t.Errorf("a default scan sent %d write(s)", api.writes.Load())
	}
	if r.Stats.Requests == 0 || int64(r.Stats.Requests) != api.requests.Load() {
		t.Errorf("stats %d, server saw %d", r.Stats.Requests, api.requests.Load())
	}
	for _, f := range []string{"r.txt", "r.json", "scan.har"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
		if bytes.Contains(b, []byte("key-alice-123456")) || bytes.Contains(b, []byte("key-bob-654321")) {
			t.Errorf("%s leaks a credential", f)
		}
	}
	if strings.Contains(stdout+stderr, "key-alice-123456") {
		t.Error("credential on stdout/stderr")
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	api := &notesAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	code, stdout, _ := run(t, context.Background(), "scan", srv.URL, "--spec", "testdata/notes.yaml", "--dry-run")
	if code != ExitOK || api.requests.Load() != 0 {
		t.Fatalf("exit %d, %d requests", code, api.requests.Load())
	}
	if !strings.Contains(stdout, "GET     /notes/{note_id}") || !strings.Contains(stdout, "/admin/reset") {
		t.Errorf("plan: %s", stdout)
	}
}

func TestConfigFileAndFlagsMerge(t *testing.T) {
	api := &notesAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	t.Setenv("ALICE_KEY", "key-alice-123456")
	dir := t.TempDir()
	spec, _ := filepath.Abs("testdata/notes.yaml")
	cfg := fmt.Sprintf(`target: %s
spec: %s
identities:
  - name: alice
    role: user
    tenant: [t1, acme]
    headers: {X-API-Key: "${ALICE_KEY}"}
  - name: root
    role: admin
    headers: {X-API-Key: nope}
options: {rate: 0, max_duration: 3m, format: json, seed: 1}
`, srv.URL, spec)
	p := filepath.Join(dir, "rampart.yaml")
	os.WriteFile(p, []byte(cfg), 0o600)
	code, stdout, stderr := run(t, context.Background(), "scan", "--config", p, "--identity", "root=X-API-Key: key-bob-654321", "--role", "root=user")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("config format json not honoured: %v", err)
	}
	got := map[string]string{}
	for _, id := range r.Options.Identities {
		got[id.Name] = id.Role + ":" + strings.Join(id.Tenant, ",")
	}
	if got["alice"] != "user:t1,acme" || got["root"] != "user:" {
		t.Errorf("merge: %v", got)
	}
}

func TestExitCodes(t *testing.T) {
	api := &notesAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	dir := t.TempDir()
	badCfg := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badCfg, []byte("options: {rate: 0, colour: red}\n"), 0o600)
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"clean scan", []string{"scan", srv.URL, "--spec", "testdata/notes.yaml"}, ExitOK},
		{"unknown flag", []string{"scan", srv.URL, "--frobnicate"}, ExitUsage},
		{"bad depth", []string{"scan", srv.URL, "--depth", "extreme"}, ExitUsage},
		{"bad identity", []string{"scan", srv.URL, "--identity", "nobody"}, ExitUsage},
		{"tenant of unknown identity", []string{"scan", srv.URL, "--tenant", "ghost=t1"}, ExitUsage},
		{"unknown config key", []string{"scan", srv.URL, "--config", badCfg}, ExitUsage},
		{"missing config", []string{"scan", srv.URL, "--config", filepath.Join(dir, "nope.yaml")}, ExitUsage},
		{"unset env var", []string{"scan", srv.URL, "-H", "X-API-Key: ${RAMPART_NOT_SET_ANYWHERE}"}, ExitUsage},
		{"two targets", []string{"scan", srv.URL, srv.URL}, ExitUsage},
		{"bad llm tier", []string{"scan", srv.URL, "--llm-tier", "ultra"}, ExitUsage},
		{"zero llm max duration", []string{"scan", srv.URL, "--llm-max-duration", "0s"}, ExitUsage},
		{"empty probe folder", []string{"scan", srv.URL, "--llm-probes", dir}, ExitUsage},
		{"rules with an empty probe folder", []string{"rules", "--llm-probes", dir}, ExitUsage},
		{"no target", []string{"scan"}, ExitUsage},
		{"not http", []string{"scan", "ftp://127.0.0.1/"}, ExitUsage},
		{"bad format", []string{"scan", srv.URL, "--format", "pdf"}, ExitUsage},
		{"bad fail-on", []string{"scan", srv.URL, "--fail-on", "severe"}, ExitUsage},
		{"usage beats target", []string{"scan", "http://127.0.0.1:1", "--depth", "x"}, ExitUsage},
		{"unreachable", []string{"scan", "http://127.0.0.1:1", "--connect-timeout", "1s"}, ExitTarget},
		{"malformed spec", []string{"scan", srv.URL, "--spec", "../spec/testdata/tab.yaml"}, ExitTarget},
		{"missing spec", []string{"scan", srv.URL, "--spec", filepath.Join(dir, "none.yaml")}, ExitTarget},
		{"budget exhausted", []string{"scan", srv.URL, "--spec", "testdata/notes.yaml", "--max-requests", "2"}, ExitIncomplete},
		{"unknown command", []string{"frobnicate"}, ExitUsage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := run(t, context.Background(), append(c.args, fast...)...)
			if code != c.want {
				t.Fatalf("exit %d, want %d (%s)", code, c.want, stderr)
			}
			if code == ExitUsage || code == ExitTarget {
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				last := lines[len(lines)-1]
				if !strings.HasPrefix(last, "rampart: ") || strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
					t.Errorf("want a one-line error, got %q", stderr)
				}
			}
		})
	}
}

func TestExitPrecedence(t *testing.T) {
	if outcomeCode(false, true, true) != ExitGate || outcomeCode(false, false, true) != ExitIncomplete ||
		outcomeCode(true, true, true) != ExitInterrupted || outcomeCode(false, false, false) != ExitOK {
		t.Fatal("precedence 1 > 4 > 0, interruption first")
	}
}

func TestInterruptWritesPartialReport(t *testing.T) {
	api := &notesAPI{delay: 150 * time.Millisecond}
	srv := httptest.NewServer(api)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(400*time.Millisecond, cancel)
	code, stdout, _ := run(t, ctx, append([]string{"scan", srv.URL, "--spec", "testdata/notes.yaml", "--format", "json",
		"--identity", "alice=X-API-Key: key-alice-123456"}, fast...)...)
	if code != ExitInterrupted {
		t.Fatalf("exit %d", code)
	}
	if err := report.Validate([]byte(stdout)); err != nil {
		t.Fatalf("partial report invalid: %v\n%s", err, stdout)
	}
	if !strings.Contains(stdout, "interrupted") {
		t.Error("partial report does not say it was interrupted")
	}
}

func TestRulesAndVersion(t *testing.T) {
	for _, f := range []string{"text", "json", "markdown"} {
		if code, out, _ := run(t, context.Background(), "rules", "--format", f); code != 0 || out == "" {
			t.Errorf("rules --format %s: %d", f, code)
		}
	}
	if code, _, _ := run(t, context.Background(), "rules", "--format", "xml"); code != ExitUsage {
		t.Error("rules with a bad format")
	}
	if code, out, _ := run(t, context.Background(), "version"); code != 0 || !strings.Contains(out, Version) {
		t.Error("version")
	}
}

var updateDocs = flag.Bool("update", false, "rewrite docs/rules.md")

// TestRulesDocIsFresh fails when docs/rules.md no longer matches the catalogue.
func TestRulesDocIsFresh(t *testing.T) {
	code, out, _ := run(t, context.Background(), "rules", "--format", "markdown")
	if code != 0 {
		t.Fatal("rules failed")
	}
	p := filepath.Join("..", "..", "docs", "rules.md")
	if *updateDocs {
		os.WriteFile(p, []byte(out), 0o644)
	}
	want, _ := os.ReadFile(p)
	if string(want) != out {
		t.Fatal("docs/rules.md is stale: run go test ./internal/cli -run TestRulesDocIsFresh -update")
	}
}

// TestBaselineSuppressionsAndDiff: a scan with a baseline marks findings,
// an ignore file suppresses one, --fail-on-new gates only on new ones, and
// rampart diff exits 1 on new findings.
func TestBaselineSuppressionsAndDiff(t *testing.T) {
	srv := httptest.NewServer(&notesAPI{})
	defer srv.Close()
	dir := t.TempDir()
	base := append([]string{"scan", srv.URL, "--spec", "testdata/notes.yaml",
		"--identity", "alice=X-API-Key: key-alice-123456", "--identity", "bob=X-API-Key: key-bob-654321", "--format", "json"}, fast...)
	code, first, stderr := run(t, context.Background(), base...)
	if code != ExitOK {
		t.Fatalf("first scan: %d %s", code, stderr)
	}
	r1, err := report.ReadJSON(strings.NewReader(first))
	if err != nil || len(r1.Findings) == 0 {
		t.Fatalf("first scan: %v, %d findings", err, len(r1.Findings))
	}
	// The baseline lacks the first finding and has one that will vanish.
	gone := r1.Findings[0]
	gone.Fingerprint, gone.Rule, gone.Path = "0000000000000000", "input.sql-injection", "/api/old"
	r1.Findings = append(r1.Findings[1:], gone)
	oldPath := filepath.Join(dir, "old.json")
	var buf bytes.Buffer
	report.WriteJSON(&buf, r1)
	os.WriteFile(oldPath, buf.Bytes(), 0o600)

	code, second, stderr := run(t, context.Background(), append(base, "--baseline", oldPath, "--fail-on-new")...)
	if code != ExitGate || !strings.Contains(stderr, "new since the baseline") {
		t.Fatalf("--fail-on-new with one new finding: exit %d, %s", code, stderr)
	}
	r2, _ := report.ReadJSON(strings.NewReader(second))
	states := map[string]int{}
	for _, f := range r2.Findings {
		states[*f.Baseline]++
	}
	if states["new"] != 1 || states["fixed"] != 1 || states["unchanged"] != len(r2.Findings)-2 {
		t.Errorf("baseline states %v", states)
	}

	ignore := filepath.Join(dir, "ignore.yaml")
	os.WriteFile(ignore, []byte("ignore:\n  - fingerprint: "+r2.Findings[0].Fingerprint+"\n    reason: accepted risk\n"), 0o600)
	newOne := ""
	for _, f := range r2.Findings {
		if *f.Baseline == "new" {
			newOne = f.Fingerprint
		}
	}
	os.WriteFile(ignore, []byte("ignore:\n  - fingerprint: "+newOne+"\n    reason: accepted risk\n"), 0o600)
	code, third, stderr := run(t, context.Background(), append(base, "--baseline", oldPath, "--fail-on-new", "--ignore-file", ignore)...)
	if code != ExitOK {
		t.Fatalf("the only new finding is suppressed: exit %d %s", code, stderr)
	}
	if !strings.Contains(third, `"suppressed": "accepted risk"`) {
		t.Error("the suppressed finding is listed with its reason")
	}
	newPath := filepath.Join(dir, "new.json")
	os.WriteFile(newPath, []byte(second), 0o600)
	if code, out, _ := run(t, context.Background(), "diff", oldPath, newPath); code != ExitGate || !strings.Contains(out, "1 new, 1 fixed") {
		t.Errorf("diff: exit %d\n%s", code, out)
	}
	if code, _, _ := run(t, context.Background(), "diff", oldPath, oldPath, "--format", "markdown"); code != ExitOK {
		t.Errorf("diff of a report with itself: exit %d", code)
	}
	if code, _, _ := run(t, context.Background(), "diff", oldPath, ignore); code != ExitUsage {
		t.Errorf("diff with a non-report: exit %d", code)
	}
	if code, _, _ := run(t, context.Background(), append(base, "--fail-on-new")...); code != ExitUsage {
		t.Error("--fail-on-new without --baseline is a usage error")
	}
}
