package ratelimit

import "github.com/rampart-scan/rampart/internal/check"

// Rule IDs of the rate limiting family.
const (
	RuleMissing      = "ratelimit.missing"
	RulePagination   = "ratelimit.unbounded-pagination"
	RuleOversized    = "ratelimit.oversized-response"
	RuleUploadLimit  = "ratelimit.upload-limit"
	RuleReDoS        = "ratelimit.redos"
	RuleBusinessFlow = "ratelimit.business-flow"
)

var rules = []check.Rule{
	{ID: RuleMissing, Title: "No rate limiting", Severity: check.Medium,
		SeverityRule: "high on login, OTP/PIN and password-reset operations (--active); medium on a read-only operation",
		OWASP:        []string{"API4:2023"}, CWE: []string{"CWE-770", "CWE-307"},
		Remediation: "Limit requests per client and per account (429 with Retry-After), strictest on authentication and reset operations.",
		References:  []string{"https://owasp.org/API-Security/editions/2023/en/0xa4-unrestricted-resource-consumption/"}},
	{ID: RulePagination, Title: "Page size above the documented maximum is honoured", Severity: check.Medium,
		SeverityRule: "medium",
		OWASP:        []string{"API4:2023"}, CWE: []string{"CWE-770"},
		Remediation: "Clamp page sizes to the documented maximum (or reject larger ones with 400).",
		Supersedes:  []string{"input.schema-not-enforced"}},
	{ID: RuleOversized, Title: "Large response without pagination", Severity: check.Low,
		SeverityRule: "low; medium above 10 MiB or 10,000 items",
		OWASP:        []string{"API4:2023"}, CWE: []string{"CWE-770"},
		Remediation: "Paginate collections and bound response sizes."},
	{ID: RuleUploadLimit, Title: "Oversized upload accepted", Severity: check.Medium,
		SeverityRule: "medium (--active --depth deep: a body far above a sane size is accepted)",
		OWASP:        []string{"API4:2023"}, CWE: []string{"CWE-770", "CWE-400"},
		Remediation: "Cap request bodies (http.MaxBytesReader, client_max_body_size) and answer 413."},
	{ID: RuleReDoS, Title: "Input-dependent super-linear processing time (ReDoS)", Severity: check.High,
		SeverityRule: "high (--active --depth deep: the answer time grows super-linearly with a crafted input, median of several runs)",
		OWASP:        []string{"API4:2023"}, CWE: []string{"CWE-1333", "CWE-400"},
		Remediation: "Use linear-time regular expressions (RE2) or bound input length before matching."},
	{ID: RuleBusinessFlow, Title: "Sensitive business flow open to automation", Severity: check.Medium,
		SeverityRule: "medium (--active: a burst of creates on a purchase-, signup- or booking-like flow all succeed, no 429, no challenge)",
		OWASP:        []string{"API6:2023"}, CWE: []string{"CWE-799"},
		Remediation: "Protect sensitive flows against automation: per-account and per-device limits, challenges, or human verification.",
		References:  []string{"https://owasp.org/API-Security/editions/2023/en/0xa6-unrestricted-access-to-sensitive-business-flows/"}},
}
