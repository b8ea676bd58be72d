package authn

import "github.com/rampart-scan/rampart/internal/check"

// Rule IDs of the authentication family (part of the report contract).
const (
	RuleMissing         = "authn.missing"
	RuleInvalidAccepted = "authn.invalid-credentials-accepted"
	RuleMethodBypass    = "authn.method-bypass"
	RuleSecurityHeaders = "authn.security-headers"
)

var rules = []check.Rule{
	{
		ID: RuleMissing, Title: "Operation returns data without credentials",
		Severity:     check.High,
		SeverityRule: "high; critical when the anonymous response carries the tenant or user markers of an identity's own data; likely (not confirmed) when no identity could fetch the same data for comparison",
		OWASP:        []string{"API2:2023"}, CWE: []string{"CWE-306"},
		Remediation: "Enforce authentication on every operation the spec declares secured (a router-level default-deny), and test that anonymous requests get 401.",
		References:  []string{"https://owasp.org/API-Security/editions/2023/en/0xa2-broken-authentication/"},
	},
	{
		ID: RuleInvalidAccepted, Title: "Invalid credentials are accepted",
		Severity:     check.Critical,
		SeverityRule: "critical: any value in the credential header unlocks the operation; never lowered",
		OWASP:        []string{"API2:2023"}, CWE: []string{"CWE-287"},
		Remediation: "Validate the credential itself (look the key up, verify the token), not only its presence; reject unknown values with 401.",
		References:  []string{"https://owasp.org/API-Security/editions/2023/en/0xa2-broken-authentication/"},
		Shared:      true,
	},
	{
		ID: RuleMethodBypass, Title: "Authentication enforced on one method but not another",
		Severity:     check.High,
		SeverityRule: "high; only creation (POST beside a protected GET) is probed, with --active, so it is not raised",
		OWASP:        []string{"API2:2023", "API5:2023"}, CWE: []string{"CWE-306", "CWE-650"},
		Remediation: "Apply authentication to the path, not to individual handlers, so every method (and every method override) passes the same check.",
		References:  []string{"https://owasp.org/API-Security/editions/2023/en/0xa5-broken-function-level-authorization/"},
	},
	{
		ID: RuleSecurityHeaders, Title: "Security headers missing",
		Severity:     check.Low,
		SeverityRule: "low; info when only Cache-Control is missing on responses without personal or tenant data",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-693", "CWE-525"},
		Remediation: "Send X-Content-Type-Options: nosniff on every response, X-Frame-Options: DENY (or CSP frame-ancestors 'none') on HTML, and Cache-Control: no-store on authenticated responses.",
		References:  []string{"https://cheatsheetseries.owasp.org/cheatsheets/REST_Security_Cheat_Sheet.html#security-headers"},
		Shared:      true,
	},
}
