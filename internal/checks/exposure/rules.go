package exposure

import "github.com/rampart-scan/rampart/internal/check"

// Rule IDs of the data exposure family.
const (
	RulePII             = "exposure.pii"
	RuleSecret          = "exposure.secret"
	RuleStackTrace      = "exposure.stack-trace"
	RuleDebugMode       = "exposure.debug-mode"
	RuleInternalAddress = "exposure.internal-address"
	RuleVersionBanner   = "exposure.version-banner"
	RuleUserEnumeration = "exposure.user-enumeration"
)

var rules = []check.Rule{
	{ID: RulePII, Title: "Personal data exposed", Severity: check.Medium,
		SeverityRule: "medium; high for card numbers (Luhn-valid) and national IDs; only values the schema does not declare or undocumented responses",
		OWASP:        []string{"API3:2023"}, CWE: []string{"CWE-359"},
		Remediation: "Return personal data only in documented fields, to callers entitled to it; mask card numbers and national IDs."},
	{ID: RuleSecret, Title: "Secret exposed in a response", Severity: check.High,
		SeverityRule: "high; critical for private keys and cloud credentials; never the caller's own credentials or tokens issued at login",
		OWASP:        []string{"API3:2023", "API8:2023"}, CWE: []string{"CWE-200", "CWE-798"},
		Remediation: "Remove the secret from the response, rotate it, and keep secrets in a secret store rather than in data the API serialises."},
	{ID: RuleStackTrace, Title: "Stack trace or internal error exposed", Severity: check.Medium,
		SeverityRule: "medium; low when only a database error message (no stack or source path) leaks",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-209"},
		Remediation: "Catch errors at the edge and answer a generic message with a correlation ID; log the details server-side.",
		Shared:      false},
	{ID: RuleDebugMode, Title: "Framework debug mode enabled", Severity: check.High,
		SeverityRule: "high: interactive debuggers can execute code; medium for static debug pages",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-489", "CWE-215"},
		Remediation: "Turn debug mode off in production (DEBUG=False, APP_DEBUG=false, Werkzeug debugger off)."},
	{ID: RuleInternalAddress, Title: "Internal network address exposed", Severity: check.Low,
		SeverityRule: "low",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-200"},
		Remediation: "Do not echo private IPs or internal host names in responses or headers.", Shared: true},
	{ID: RuleVersionBanner, Title: "Software version disclosed", Severity: check.Low,
		SeverityRule: "low",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-200"},
		Remediation: "Drop version numbers from Server and X-Powered-By headers.", Shared: true},
	{ID: RuleUserEnumeration, Title: "Login or reset answers tell existing users apart", Severity: check.Medium,
		SeverityRule: "medium (with --active: one login or reset for a known and an unknown user)",
		OWASP:        []string{"API2:2023"}, CWE: []string{"CWE-204"},
		Remediation: "Answer wrong passwords and unknown users identically (same status, message and timing)."},
}
