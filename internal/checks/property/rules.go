package property

import "github.com/rampart-scan/rampart/internal/check"

// Rule IDs of the property-authorization family.
const (
	RuleExcessiveExposure     = "property.excessive-exposure"
	RuleMassAssignment        = "property.mass-assignment"
	RuleMassAssignmentSurface = "property.mass-assignment-surface"
)

var rules = []check.Rule{
	{
		ID: RuleExcessiveExposure, Title: "Response exposes sensitive fields the schema does not declare",
		Severity:     check.High,
		SeverityRule: "high for undeclared credential-like fields (password hashes, API keys, secrets, tokens); medium for undeclared personal identifiers (SSN, card numbers); never for the caller's own credentials",
		OWASP:        []string{"API3:2023"}, CWE: []string{"CWE-213", "CWE-200"},
		Remediation: "Serialise responses through an explicit allow-list (a response DTO matching the documented schema) instead of returning storage objects.",
		References:  []string{"https://owasp.org/API-Security/editions/2023/en/0xa3-broken-object-property-level-authorization/"},
		Supersedes:  []string{"exposure.secret", "exposure.pii"},
	},
	{
		ID: RuleMassAssignment, Title: "Privileged field accepted in a write and stored",
		Severity:     check.High,
		SeverityRule: "critical when a role, admin or permission field changes; high for other server-owned fields (credit, balance, verified, owner)",
		OWASP:        []string{"API3:2023"}, CWE: []string{"CWE-915"},
		Remediation: "Bind request bodies to a write model that lists the writable fields; reject (422) or ignore unknown and read-only fields.",
		References:  []string{"https://owasp.org/API-Security/editions/2023/en/0xa3-broken-object-property-level-authorization/"},
		Supersedes:  []string{RuleMassAssignmentSurface},
	},
	{
		ID: RuleMassAssignmentSurface, Title: "Spec lets clients write privileged fields",
		Severity:     check.Low,
		SeverityRule: "low: the spec documents a privileged field as writable; it becomes property.mass-assignment when a write proves it takes effect",
		OWASP:        []string{"API3:2023"}, CWE: []string{"CWE-915"},
		Remediation: "Mark server-owned fields readOnly and keep them out of create and update schemas, unless only privileged callers may set them.",
	},
}
