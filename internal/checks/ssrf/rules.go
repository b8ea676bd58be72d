package ssrf

import "github.com/rampart-scan/rampart/internal/check"

// Rule IDs of the SSRF family.
const (
	RuleURLParameter  = "ssrf.url-parameter"
	RuleInternalReach = "ssrf.internal-reach"
	RuleScheme        = "ssrf.scheme"
	RuleFilterBypass  = "ssrf.filter-bypass"
	RuleOpenRedirect  = "ssrf.open-redirect"
)

var rules = []check.Rule{
	{ID: RuleURLParameter, Title: "Server fetches URLs the caller chooses (SSRF)", Severity: check.Critical,
		SeverityRule: "critical: confirmed only by a canary hit; what else the parameter reaches (metadata, file://, loopback services) is folded into this finding",
		OWASP:        []string{"API7:2023"}, CWE: []string{"CWE-918"},
		Remediation: "Fetch only allow-listed hosts over https, resolve names yourself and refuse private, loopback, link-local and metadata addresses after resolution, and do not follow redirects to them.",
		References:  []string{"https://owasp.org/API-Security/editions/2023/en/0xa7-server-side-request-forgery/"},
		Supersedes:  []string{RuleInternalReach, RuleScheme}},
	{ID: RuleInternalReach, Title: "Internal content reachable through a URL parameter", Severity: check.Critical,
		SeverityRule: "critical (--active): a metadata document or an internal service's answer comes back",
		OWASP:        []string{"API7:2023"}, CWE: []string{"CWE-918"},
		Remediation: "Refuse internal destinations after name resolution; use a metadata service that requires a session token (IMDSv2)."},
	{ID: RuleScheme, Title: "URL parameter accepts non-HTTP schemes", Severity: check.High,
		SeverityRule: "high; file:// only with --active, gopher:// only ever at the canary",
		OWASP:        []string{"API7:2023"}, CWE: []string{"CWE-918", "CWE-73"},
		Remediation: "Accept only http(s) URLs."},
	{ID: RuleFilterBypass, Title: "SSRF filter bypassed by another spelling of an address", Severity: check.High,
		SeverityRule: "high: the plain address is refused but 127.1, a decimal or hex address, an IPv6-mapped form or a trailing dot gets through",
		OWASP:        []string{"API7:2023"}, CWE: []string{"CWE-918", "CWE-184"},
		Remediation: "Parse and resolve the URL the way the fetcher does, then check the resulting IP; block lists of strings cannot cover every spelling."},
	{ID: RuleOpenRedirect, Title: "Open redirect", Severity: check.Medium,
		SeverityRule: "medium",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-601"},
		Remediation: "Redirect only to relative paths or allow-listed hosts."},
}
