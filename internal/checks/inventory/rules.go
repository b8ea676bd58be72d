package inventory

import "github.com/rampart-scan/rampart/internal/check"

// Rule IDs of the inventory family.
const (
	RuleUndocumented    = "inventory.undocumented-endpoint"
	RuleLegacyVersion   = "inventory.legacy-version"
	RuleDeprecatedAlive = "inventory.deprecated-alive"
	RuleDebugEndpoint   = "inventory.debug-endpoint"
	RuleExposedDocs     = "inventory.exposed-docs"
	RuleHiddenParameter = "inventory.hidden-parameter"
)

var rules = []check.Rule{
	{ID: RuleUndocumented, Title: "Live endpoint missing from the spec", Severity: check.Low,
		SeverityRule: "low; medium when it answers anonymous callers with data",
		OWASP:        []string{"API9:2023"}, CWE: []string{"CWE-1059"},
		Remediation: "Document every route you serve, or remove it; keep an inventory of hosts, versions and routes."},
	{ID: RuleLegacyVersion, Title: "Older API version still answers", Severity: check.Medium,
		SeverityRule: "medium; high when its controls are weaker than the documented version's (no authentication where the current one demands it)",
		OWASP:        []string{"API9:2023"}, CWE: []string{"CWE-1059", "CWE-306"},
		Remediation: "Retire old versions (410 Gone), or keep them behind the same authentication, authorization and rate limits as the current one."},
	{ID: RuleDeprecatedAlive, Title: "Deprecated operation still answers", Severity: check.Low,
		SeverityRule: "low",
		OWASP:        []string{"API9:2023"}, CWE: []string{"CWE-1059"},
		Remediation: "Announce a sunset date (Sunset/Deprecation headers) and remove deprecated operations when it passes."},
	{ID: RuleDebugEndpoint, Title: "Debug or diagnostics endpoint exposed", Severity: check.High,
		SeverityRule: "high; critical when it exposes secrets (folded into this finding); medium for profiling or server status; low for metrics only",
		OWASP:        []string{"API9:2023", "API8:2023"}, CWE: []string{"CWE-489", "CWE-215"},
		Remediation: "Do not route debug, profiling or configuration endpoints on public listeners; bind them to an internal port behind authentication.",
		Supersedes:  []string{"exposure.secret", "exposure.debug-mode", "exposure.internal-address", "inventory.undocumented-endpoint"}},
	{ID: RuleExposedDocs, Title: "API documentation exposed", Severity: check.Info,
		SeverityRule: "info: documentation is often public by design; it maps the attack surface",
		OWASP:        []string{"API9:2023"}, CWE: []string{"CWE-200"},
		Remediation: "Serve API documentation only where it is meant to be public."},
	{ID: RuleHiddenParameter, Title: "Hidden debug or admin parameter changes the response", Severity: check.Medium,
		SeverityRule: "medium; high when it reveals fields the documented response does not have",
		OWASP:        []string{"API9:2023", "API3:2023"}, CWE: []string{"CWE-912"},
		Remediation: "Remove debug switches from production code, or bind them to a privileged role."},
}
