// Package consumption is the unsafe consumption family: the API calls
// callback URLs without verification, fetches from a host whose TLS
// certificate is invalid, or passes third-party content through unsanitised.
// The third party is Rampart's canary, so every verdict has out-of-band proof.
package consumption

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks/ssrf"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/oob"
)

// Rule IDs of the unsafe consumption family.
const (
	RuleCallback  = "consumption.unvalidated-callback"
	RuleTLS       = "consumption.tls-not-verified"
	RuleUntrusted = "consumption.untrusted-content"
)

var rules = []check.Rule{
	{ID: RuleCallback, Title: "Callback URLs are called without verification", Severity: check.High,
		SeverityRule: "high (--active: a registered callback calls the canary); critical when it reaches internal addresses",
		OWASP:        []string{"API10:2023", "API7:2023"}, CWE: []string{"CWE-918", "CWE-345"},
		Remediation: "Verify callback URLs (https only, public hosts after resolution, a signed challenge the receiver must echo) before calling them."},
	{ID: RuleTLS, Title: "Upstream TLS certificates are not verified", Severity: check.High,
		SeverityRule: "high: the target read from a host with an invalid (self-signed) certificate",
		OWASP:        []string{"API10:2023", "API8:2023"}, CWE: []string{"CWE-295"},
		Remediation: "Never disable certificate verification in outbound HTTP clients (InsecureSkipVerify, verify=False)."},
	{ID: RuleUntrusted, Title: "Third-party content passed through unsanitised", Severity: check.Medium,
		SeverityRule: "medium: markup from the third party renders in an HTML answer, or its fields merge into the API's own",
		OWASP:        []string{"API10:2023"}, CWE: []string{"CWE-20", "CWE-79"},
		Remediation: "Validate third-party responses against a schema, copy only the fields you expect, and escape them for the output context."},
}

// Family is the unsafe consumption family.
type Family struct{}

// New returns a fresh family.
func New() *Family { return &Family{} }

// Meta describes the family.
func (f *Family) Meta() check.Family {
	return check.Family{ID: "consumption", Category: check.UnsafeConsumption, Rules: rules}
}

// Applies when there is a canary and something that takes URLs.
func (f *Family) Applies(s *check.Scan) (bool, string) {
	if s.Canary == nil {
		return false, "no out-of-band canary"
	}
	if len(ssrf.URLParams(s)) == 0 && (!s.Options.Active || len(ssrf.BodyURLFields(s, true)) == 0) {
		return false, "no parameter or field takes a URL"
	}
	return true, ""
}

// Estimate: three requests per URL parameter, one per callback field.
func (f *Family) Estimate(s *check.Scan) int {
	return 5 + 3*len(ssrf.URLParams(s)) + 2*len(ssrf.BodyURLFields(s, true))
}

// wait is how long a probe waits for its canary hit (fetchers call out while answering).
const wait = 400 * time.Millisecond

// Run: TLS verification and pass-through through URL parameters.
func (f *Family) Run(ctx context.Context, s *check.Scan) error {
	params := ssrf.URLParams(s)
	return check.Parallel(ctx, len(params), 4, func(ctx context.Context, i int) error {
		p := params[i]
		id := ssrf.Caller(ctx, s, p.Op)
		c := s.Canary
		if s.Enabled(RuleTLS) {
			tok := c.NewToken()
			ex, err := ssrf.Send(ctx, s, p, id, c.TLSURL(tok), false)
			if err != nil {
				return err
			}
			if hit, ok := c.Wait(ctx, tok, wait); ok && hit.TLS && (hit.Method != "" || hit.URI != "") {
				s.Report(check.Finding{Rule: RuleTLS, Severity: check.High, Confidence: check.Confirmed, Method: p.Op.Method, Path: p.Op.Path,
					Parameter: &check.Param{In: p.In, Name: p.Name}, Identity: ex.Identity,
					Detail:   "The target completed a request to Rampart's HTTPS canary, whose certificate is self-signed: it does not verify certificates.",
					Evidence: []check.Evidence{s.Evidence(ex, "the parameter points at the HTTPS canary"), {Kind: check.EvidenceOOB, Note: fmt.Sprintf("TLS hit: %s %s from %s", hit.Method, hit.URI, hit.RemoteAddr)}},
					Curl:     s.Curl(ex), SpecLocation: check.SpecLocation(p.Op)})
			}
		}
		if s.Enabled(RuleUntrusted) {
			return f.passThrough(ctx, s, p, id)
		}
		return nil
	})
}

var markerRe = regexp.MustCompile(`rampart_[0-9a-f]{8}`)

// passThrough serves markup and JSON with an unexpected field from the canary.
func (f *Family) passThrough(ctx context.Context, s *check.Scan, p ssrf.Param, id *identity.Identity) error {
	c := s.Canary
	mark := "rampart_" + c.NewToken()[2:10]
	tok := c.NewToken()
	markup := fmt.Sprintf(`<!doctype html><html><head><title>Invoice <img src=x onerror=%s()></title></head><body><script>%s()</script><p>hello</p></body></html>`, mark, mark)
	c.Respond(tok, oob.Response{Status: 200, ContentType: "text/html; charset=utf-8", Body: []byte(markup)})
	ex, err := ssrf.Send(ctx, s, p, id, c.URL(tok), false)
	if err != nil {
		return err
	}
	if ex != nil && check.OK(ex.Status) && strings.Contains(strings.ToLower(ex.Header.Get("Content-Type")), "html") &&
		(strings.Contains(string(ex.Body), "<img src=x onerror="+mark) || strings.Contains(string(ex.Body), "<script>"+mark)) {
		s.Report(check.Finding{Rule: RuleUntrusted, Severity: check.Medium, Confidence: check.Confirmed, Method: p.Op.Method, Path: p.Op.Path,
			Parameter: &check.Param{In: p.In, Name: p.Name}, Identity: ex.Identity,
			Detail:   "Markup served by the third party (Rampart's canary) appears unescaped in the HTML answer.",
			Evidence: []check.Evidence{s.Evidence(ex, "third-party markup rendered")}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(p.Op)})
		return nil
	}
	tok2 := c.NewToken()
	field := mark + "_field"
	body, _ := json.Marshal(map[string]any{"title": "Invoice", field: "injected", "is_admin": true})
	c.Respond(tok2, oob.Response{Status: 200, ContentType: "application/json", Body: body})
	ex, err = ssrf.Send(ctx, s, p, id, c.URL(tok2), false)
	if err != nil || ex == nil || !check.OK(ex.Status) {
		return err
	}
	var out map[string]any
	if json.Unmarshal(ex.Body, &out) != nil {
		return nil
	}
	if _, merged := out[field]; merged {
		s.Report(check.Finding{Rule: RuleUntrusted, Severity: check.Medium, Confidence: check.Confirmed, Method: p.Op.Method, Path: p.Op.Path,
			Parameter: &check.Param{In: p.In, Name: p.Name}, Identity: ex.Identity,
			Detail:   fmt.Sprintf("A field the third party invented (%q) becomes a field of the API's own answer.", field),
			Evidence: []check.Evidence{s.Evidence(ex, "third-party fields merged")}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(p.Op)})
	}
	return nil
}

// RunWrites (phase 3, --active): register callbacks that point at the canary.
func (f *Family) RunWrites(ctx context.Context, s *check.Scan) error {
	if !s.Enabled(RuleCallback) {
		return nil
	}
	for _, b := range ssrf.BodyURLFields(s, true) {
		tok := s.Canary.NewToken()
		ex, err := ssrf.SendBody(ctx, s, b, s.Canary.URL(tok))
		if err != nil {
			return err
		}
		if ex == nil {
			continue
		}
		hit, ok := s.Canary.Wait(ctx, tok, 2*time.Second)
		if !ok {
			continue
		}
		s.Report(check.Finding{Rule: RuleCallback, Severity: check.High, Confidence: check.Confirmed, Method: b.Op.Method, Path: b.Op.Path,
			Parameter: &check.Param{In: "body", Name: b.Field}, Identity: ex.Identity,
			Detail:   fmt.Sprintf("A callback URL registered in %q is called at once (%s %s from %s), with no verification of the receiver.", b.Field, hit.Method, hit.URI, hit.RemoteAddr),
			Evidence: []check.Evidence{s.Evidence(ex, "callback registered"), {Kind: check.EvidenceOOB, Note: fmt.Sprintf("callback hit: %s %s from %s", hit.Method, hit.URI, hit.RemoteAddr)}},
			Curl:     s.Curl(ex), SpecLocation: check.SpecLocation(b.Op)})
	}
	return nil
}

var (
	_ check.Check      = (*Family)(nil)
	_ check.Writer     = (*Family)(nil)
	_ check.Applicable = (*Family)(nil)
)
