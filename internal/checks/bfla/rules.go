package bfla

import "github.com/rampart-scan/rampart/internal/check"

// Rule IDs of the function-level authorization family.
const (
	RuleAdminFunction      = "bfla.admin-function"
	RuleUndocumentedMethod = "bfla.undocumented-method"
	RuleMethodOverride     = "bfla.method-override"
)

var rules = []check.Rule{
	{
		ID: RuleAdminFunction, Title: "Administrative function open to ordinary users",
		Severity:     check.High,
		SeverityRule: "high; critical when the user's answer also carries other tenants' data; likely (not confirmed) without an admin identity to compare with",
		OWASP:        []string{"API5:2023"}, CWE: []string{"CWE-285"},
		Remediation: "Deny by default and check the caller's role on the server for every administrative route (a route group with a role middleware), never from client-supplied claims.",
		References:  []string{"https://owasp.org/API-Security/editions/2023/en/0xa5-broken-function-level-authorization/"},
	},
	{
		ID: RuleUndocumentedMethod, Title: "Undocumented method works for a user",
		Severity:     check.Medium,
		SeverityRule: "medium; high when the undocumented method deletes or replaces an object",
		OWASP:        []string{"API5:2023", "API9:2023"}, CWE: []string{"CWE-749", "CWE-285"},
		Remediation: "Register only the methods you document, and apply the same authorization to every method a route answers.",
	},
	{
		ID: RuleMethodOverride, Title: "Method override bypasses a method restriction",
		Severity:     check.High,
		SeverityRule: "high; critical when the overridden method deletes an object",
		OWASP:        []string{"API5:2023"}, CWE: []string{"CWE-285", "CWE-650"},
		Remediation: "Do not honour X-HTTP-Method-Override, X-Method-Override or _method, or apply authorization after the override is resolved.",
	},
}
