package authn

import (
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/compare"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/probe"
)

// headerState remembers which operation already has a finding for which header.
type headerState struct {
	mu   sync.Mutex
	seen map[string]bool
}

const maxHeaderReports = 40

func (h *headerState) first(key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen == nil {
		h.seen = map[string]bool{}
	}
	if h.seen[key] || len(h.seen) >= maxHeaderReports*3 {
		return false
	}
	h.seen[key] = true
	return true
}

// Observe checks every successful response from the target for security headers.
func (f *Family) Observe(s *check.Scan, ex *probe.Exchange) {
	if !s.Enabled(RuleSecurityHeaders) || !check.OK(ex.Status) || len(ex.Body) == 0 {
		return
	}
	u, err := url.Parse(ex.URL)
	if err != nil || !s.Client.SameOrigin(u) {
		return
	}
	rel := s.RelPath(ex)
	path := check.TemplatePath(rel)
	secured := false // undocumented: no way to tell whether the answer is private
	if o := s.Plan.Find(ex.Method, rel); o != nil {
		path = o.Path
		secured = o.Spec == nil || o.Spec.Secured() || s.Spec == nil || !anySecured(s.Plan)
	} else if s.IsCatchAll(ex) {
		return
	}
	h := ex.Header
	ct := strings.ToLower(h.Get("Content-Type"))
	var missing []string
	if !strings.EqualFold(strings.TrimSpace(h.Get("X-Content-Type-Options")), "nosniff") {
		missing = append(missing, "X-Content-Type-Options")
	}
	if strings.Contains(ct, "text/html") && h.Get("X-Frame-Options") == "" && !strings.Contains(strings.ToLower(h.Get("Content-Security-Policy")), "frame-ancestors") {
		missing = append(missing, "X-Frame-Options")
	}
	authenticated := ex.Identity != identity.Anonymous && len(ex.CredHeaders) > 0
	if authenticated && secured && compare.HasData(ex.Body) && !strings.Contains(strings.ToLower(h.Get("Cache-Control")), "no-store") {
		missing = append(missing, "Cache-Control")
	}
	for _, name := range missing {
		if !f.headers.first(ex.Method + " " + path + " " + name) {
			continue
		}
		s.Report(check.Finding{
			Rule: RuleSecurityHeaders, Severity: check.Low, Confidence: check.Confirmed, Method: ex.Method, Path: path,
			Parameter: &check.Param{In: "header", Name: name}, Identity: ex.Identity,
			Title:    "Security header missing: " + name,
			Detail:   headerDetail(name, h),
			Evidence: []check.Evidence{s.Evidence(ex, "response without "+name)},
			Curl:     s.Curl(ex),
		})
	}
}

func headerDetail(name string, h http.Header) string {
	switch name {
	case "X-Content-Type-Options":
		return "Responses lack X-Content-Type-Options: nosniff, so browsers may sniff API content as HTML or script."
	case "X-Frame-Options":
		return "HTML responses can be framed: no X-Frame-Options and no CSP frame-ancestors."
	}
	cc := h.Get("Cache-Control")
	if cc == "" {
		cc = "none"
	}
	return "Authenticated responses with data may be stored by shared caches: Cache-Control is " + cc + ", not no-store."
}
