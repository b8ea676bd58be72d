package bola

import "github.com/rampart-scan/rampart/internal/check"

// Rule IDs of the BOLA family.
const (
	RuleObjectAccess     = "bola.object-access"
	RuleCrossTenant      = "bola.cross-tenant"
	RuleCrossTenantWrite = "bola.cross-tenant-write"
	RuleObjectWrite      = "bola.object-write"
	RulePredictableIDs   = "bola.predictable-ids"
)

var rules = []check.Rule{
	{
		ID: RuleObjectAccess, Title: "Another identity reads the object",
		Severity:     check.High,
		SeverityRule: "high when another user reads the object; critical when anonymous callers do too; likely (not confirmed) when the object's own markers are absent or only adjacent IDs were probed",
		OWASP:        []string{"API1:2023"}, CWE: []string{"CWE-639"},
		Remediation: "Look objects up through the caller: filter by the authenticated owner or tenant in the query itself, and answer 404 for objects the caller does not own.",
		References:  []string{"https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/"},
	},
	{
		ID: RuleCrossTenant, Title: "Tenant selector not bound to the caller's credentials",
		Severity:     check.Critical,
		SeverityRule: "critical: one tenant's credentials read another tenant's data; likely when the other tenant's own answer was not available for comparison",
		OWASP:        []string{"API1:2023"}, CWE: []string{"CWE-639", "CWE-284"},
		Remediation: "Derive the tenant from the credential (the key's or token's tenant), or compare every tenant selector (path, query, X-Tenant-ID-style header) with it and answer 403 on a mismatch.",
		References:  []string{"https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/"},
		Supersedes:  []string{RuleObjectAccess},
	},
	{
		ID: RuleCrossTenantWrite, Title: "One tenant writes into another tenant",
		Severity:     check.Critical,
		SeverityRule: "critical; likely when the response does not show the other tenant",
		OWASP:        []string{"API1:2023"}, CWE: []string{"CWE-639", "CWE-284"},
		Remediation: "Bind write operations to the credential's tenant exactly as reads are; reject a foreign tenant selector with 403 before touching storage.",
		Supersedes:  []string{RuleObjectWrite},
	},
	{
		ID: RuleObjectWrite, Title: "Another identity changes or deletes the object",
		Severity:     check.High,
		SeverityRule: "high for a change, critical for a deletion; confirmed only when reading the object back shows the effect",
		OWASP:        []string{"API1:2023"}, CWE: []string{"CWE-639", "CWE-284"},
		Remediation: "Check ownership on every write path (PUT, PATCH, DELETE), not only on reads.",
	},
	{
		ID: RulePredictableIDs, Title: "Sequential object identifiers",
		Severity:     check.Low,
		SeverityRule: "low: guessable IDs only make other authorization flaws easier to exploit",
		OWASP:        []string{"API1:2023"}, CWE: []string{"CWE-330"},
		Remediation: "Use random, non-sequential identifiers (UUIDv4 or similar) for objects exposed in URLs, in addition to ownership checks.",
	},
}
