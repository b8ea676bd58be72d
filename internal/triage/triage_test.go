package triage

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/report"
)

func finding(rule, method, path string, sev check.Severity) check.Finding {
	return check.Finding{Rule: rule, Method: method, Path: path, Severity: sev, Confidence: check.Confirmed, Category: check.BOLA,
		Fingerprint: check.Fingerprint(rule, method, path, nil)}
}

func rep(fs ...check.Finding) *report.Report {
	r := &report.Report{Schema: report.SchemaID, Findings: fs, Categories: []report.CategoryResult{{ID: check.BOLA, Status: report.Assessed}}}
	r.Rescore(nil)
	return r
}

func states(r *report.Report) map[string]string {
	out := map[string]string{}
	for _, f := range r.Findings {
		s := "nil"
		if f.Baseline != nil {
			s = *f.Baseline
		}
		if f.Suppressed != nil {
			s += "+suppressed"
		}
		out[f.Rule+" "+f.Path] = s
	}
	return out
}

func TestApplyBaseline(t *testing.T) {
	a := finding("bola.object-access", "GET", "/a/{id}", check.High)
	b := finding("authn.missing", "GET", "/b", check.High)
	c := finding("input.sql-injection", "GET", "/c", check.Critical)
	old := rep(a, b)
	cur := rep(a, c)
	ApplyBaseline(cur, old)
	want := map[string]string{"bola.object-access /a/{id}": "unchanged", "input.sql-injection /c": "new", "authn.missing /b": "fixed"}
	for k, v := range want {
		if states(cur)[k] != v {
			t.Errorf("%s: %s, want %s", k, states(cur)[k], v)
		}
	}
	// A fixed finding of the baseline is not carried over again.
	next := rep(a)
	ApplyBaseline(next, cur)
	if _, ok := states(next)["authn.missing /b"]; ok {
		t.Error("a finding fixed two scans ago came back as fixed")
	}
	if states(next)["input.sql-injection /c"] != "fixed" {
		t.Error("c vanished and is fixed")
	}
}

func writeIgnore(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), ".rampart-ignore.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIgnoreFile(t *testing.T) {
	a := finding("bola.object-access", "GET", "/a/{id}", check.High)
	b := finding("authn.missing", "GET", "/internal/health", check.High)
	c := finding("input.sql-injection", "GET", "/c", check.Critical)
	d := finding("exposure.version-banner", "*", "*", check.Low)
	d.Affected = []check.Endpoint{{Method: "GET", Path: "/internal/x"}}
	ig, err := LoadIgnore(writeIgnore(t, `ignore:
  - fingerprint: `+a.Fingerprint+`
    reason: tracked in JIRA-12
  - rule: authn.missing
    path: /internal/*
    reason: internal network only
  - rule: input.sql-injection
    reason: old
    expires: 2026-01-31
  - rule: exposure.*
    path: /internal/*
    reason: banner is public anyway
  - rule: bfla.admin-function
    reason: nothing matches
`))
	if err != nil {
		t.Fatal(err)
	}
	r := rep(a, b, c, d)
	before := *r.Score
	warnings := ig.Apply(r, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
	got := states(r)
	for k, v := range map[string]string{"bola.object-access /a/{id}": "nil+suppressed", "authn.missing /internal/health": "nil+suppressed",
		"input.sql-injection /c": "nil", "exposure.version-banner *": "nil+suppressed"} {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if len(r.Findings) != 4 {
		t.Error("suppressed findings are kept, never dropped")
	}
	if len(warnings) != 2 || !strings.Contains(strings.Join(warnings, "\n"), "expired on 2026-01-31") || !strings.Contains(strings.Join(warnings, "\n"), "matches no finding") {
		t.Errorf("warnings: %v", warnings)
	}
	if *r.Score <= before {
		t.Errorf("suppressed findings no longer count: score %d → %d", before, *r.Score)
	}
	// The expiry's last day still applies.
	r2 := rep(c)
	ig.Apply(r2, time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC))
	if r2.Findings[0].Suppressed == nil || !strings.Contains(*r2.Findings[0].Suppressed, "until 2026-01-31") {
		t.Error("entry applies through its expiry day")
	}
}

func TestIgnoreFileErrors(t *testing.T) {
	for name, body := range map[string]string{
		"no reason":       "ignore:\n  - rule: authn.missing\n",
		"both":            "ignore:\n  - rule: authn.missing\n    fingerprint: abc\n    reason: x\n",
		"neither":         "ignore:\n  - reason: x\n",
		"bad date":        "ignore:\n  - rule: a.b\n    reason: x\n    expires: next week\n",
		"unknown key":     "ignore:\n  - rule: a.b\n    reason: x\n    until: 2027-01-01\n",
		"bad glob":        "ignore:\n  - rule: a.b\n    path: '['\n    reason: x\n",
		"glob with print": "ignore:\n  - fingerprint: abc\n    path: /x\n    reason: x\n",
	} {
		_, err := LoadIgnore(writeIgnore(t, body))
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: want a one-line error, got %v", name, err)
		}
	}
	if _, err := LoadIgnore(filepath.Join(t.TempDir(), "nope.yaml")); err == nil {
		t.Error("a missing file is an error")
	}
}

func TestDiff(t *testing.T) {
	a := finding("bola.object-access", "GET", "/a/{id}", check.High)
	b := finding("authn.missing", "GET", "/b", check.High)
	c := finding("input.sql-injection", "GET", "/c", check.Critical)
	s := finding("exposure.version-banner", "GET", "/s", check.Low)
	reason := "accepted"
	s.Suppressed = &reason
	d := Compare(rep(a, b), rep(a, c, s))
	if len(d.New) != 1 || d.New[0].Rule != c.Rule || len(d.Fixed) != 1 || d.Fixed[0].Rule != b.Rule || len(d.Unchanged) != 1 {
		t.Fatalf("diff: %+v", d)
	}
	for _, f := range []string{"text", "markdown", "json"} {
		var buf bytes.Buffer
		if err := WriteDiff(&buf, d, f); err != nil || !strings.Contains(buf.String(), "input.sql-injection") {
			t.Errorf("%s: %v %s", f, err, buf.String())
		}
	}
	var buf bytes.Buffer
	WriteDiff(&buf, d, "text")
	if !strings.Contains(buf.String(), "score: ") || !strings.Contains(buf.String(), "1 new, 1 fixed, 1 unchanged") {
		t.Errorf("text: %s", buf.String())
	}
	if err := WriteDiff(&buf, d, "xml"); err == nil {
		t.Error("bad format")
	}
}
