package input

import "github.com/rampart-scan/rampart/internal/check"

// Rule IDs of the input validation family.
const (
	RuleCORSReflection     = "input.cors-reflection"
	RuleCORSNull           = "input.cors-null-origin"
	RuleCORSWildcard       = "input.cors-wildcard"
	RulePathTraversal      = "input.path-traversal"
	RuleDangerousMethods   = "input.dangerous-methods"
	RuleContentTypeConfuse = "input.content-type-confusion"
	RuleSQLInjection       = "input.sql-injection"
	RuleNoSQLInjection     = "input.nosql-injection"
	RuleReflectedMarkup    = "input.reflected-markup"
	RuleSchemaNotEnforced  = "input.schema-not-enforced"
)

var rules = []check.Rule{
	{ID: RuleCORSReflection, Title: "Any Origin is trusted by CORS", Severity: check.High,
		SeverityRule: "high with Access-Control-Allow-Credentials: true; medium without",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-942", "CWE-346"},
		Remediation: "Answer Access-Control-Allow-Origin only for an allow-list of exact origins, and never reflect the request's Origin.", Shared: true,
		Supersedes: []string{RuleCORSNull}},
	{ID: RuleCORSNull, Title: "CORS trusts the null origin", Severity: check.Medium,
		SeverityRule: "medium; high with credentials",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-942"},
		Remediation: "Never allow Origin: null (sandboxed iframes and local files send it).", Shared: true},
	{ID: RuleCORSWildcard, Title: "CORS allows every origin (wildcard)", Severity: check.Low,
		SeverityRule: "low: browsers send no credentials with a wildcard, but every site can read the responses",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-942"},
		Remediation: "Use an explicit origin allow-list for APIs that serve non-public data.", Shared: true},
	{ID: RulePathTraversal, Title: "Path traversal", Severity: check.Critical,
		SeverityRule: "critical: confirmed only by content (another tenant's file or a well-known system file), never by status",
		OWASP:        []string{"API8:2023", "API1:2023"}, CWE: []string{"CWE-22"},
		Remediation: "Resolve the requested name against the tenant's folder and refuse any result outside it (filepath.Rel/Clean after joining); better, map IDs to files server-side."},
	{ID: RuleDangerousMethods, Title: "TRACE/TRACK enabled", Severity: check.Medium,
		SeverityRule: "medium when the request (headers included) is echoed back; low otherwise",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-693"},
		Remediation: "Disable TRACE and TRACK on the server and any proxy in front of it.", Shared: true},
	{ID: RuleContentTypeConfuse, Title: "JSON endpoint also accepts form or XML bodies", Severity: check.Low,
		SeverityRule: "low; medium when the caller is authenticated by cookie (the form body makes it reachable by cross-site forms)",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-352", "CWE-436"},
		Remediation: "Reject request bodies whose Content-Type is not application/json (415)."},
	{ID: RuleSQLInjection, Title: "SQL injection", Severity: check.Critical,
		SeverityRule: "critical when a boolean pair changes the result set; high when only a database error proves the quote reached SQL",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-89"},
		Remediation: "Use parameterised queries (placeholders) for every value, and answer errors without database messages.",
		Supersedes:  []string{"exposure.stack-trace"}},
	{ID: RuleNoSQLInjection, Title: "NoSQL operator injection", Severity: check.Critical,
		SeverityRule: "critical: an operator object changes the outcome (e.g. a login without the password)",
		OWASP:        []string{"API8:2023", "API2:2023"}, CWE: []string{"CWE-943"},
		Remediation: "Validate that string fields are strings before building queries; never pass request objects into a query filter."},
	{ID: RuleReflectedMarkup, Title: "Input echoed unescaped in HTML", Severity: check.Medium,
		SeverityRule: "medium; high when the response is served to authenticated users",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-79"},
		Remediation: "Escape output for its context (html/template does it), and serve API data as JSON with X-Content-Type-Options: nosniff."},
	{ID: RuleSchemaNotEnforced, Title: "Values the spec forbids are accepted", Severity: check.Low,
		SeverityRule: "low: a hint that validation is missing, not a flaw by itself",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-20"},
		Remediation: "Validate requests against the published schema (types, ranges, lengths, enums) and answer 400."},
}
