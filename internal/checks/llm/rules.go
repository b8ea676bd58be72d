package llm

import "github.com/rampart-scan/rampart/internal/check"

// Rule IDs of the LLM family (OWASP Top 10 for LLM Applications 2025).
const (
	RuleUnauthenticated = "llm.unauthenticated-endpoint"
	RuleModelDisclosure = "llm.model-disclosure"
	RuleUsageExposure   = "llm.usage-exposure"
	RulePromptLeak      = "llm.system-prompt-leak"
	RuleInjection       = "llm.prompt-injection"
	RuleJailbreak       = "llm.jailbreak"
	RuleOutputInjection = "llm.output-injection"
	RuleExfiltration    = "llm.data-exfiltration"
	RuleAgency          = "llm.excessive-agency"
	RulePII             = "llm.pii-leak"
	RuleCost            = "llm.cost-exploitation"
)

var rules = []check.Rule{
	{ID: RuleUnauthenticated, Title: "LLM endpoint answers anonymous callers", Severity: check.Critical,
		SeverityRule: "critical when the spec (or a sibling) demands credentials and the model answers without them",
		OWASP:        []string{"LLM10:2025", "API2:2023"}, CWE: []string{"CWE-306"},
		Remediation: "Authenticate every call to the model endpoint and meter it per caller.", Supersedes: []string{"authn.missing"}},
	{ID: RuleModelDisclosure, Title: "Model name disclosed", Severity: check.Low,
		SeverityRule: "low", OWASP: []string{"LLM02:2025"}, CWE: []string{"CWE-200"},
		Remediation: "Do not return the upstream model's identifier to clients.", Shared: true},
	{ID: RuleUsageExposure, Title: "Token usage or cost metadata returned", Severity: check.Low,
		SeverityRule: "low", OWASP: []string{"LLM02:2025", "LLM10:2025"}, CWE: []string{"CWE-200"},
		Remediation: "Keep token counts and costs server-side.", Shared: true},
	{ID: RulePromptLeak, Title: "System prompt leaks", Severity: check.Critical,
		SeverityRule: "critical when the leaked instructions carry secrets or a benign request already returns them; high otherwise",
		OWASP:        []string{"LLM07:2025", "LLM02:2025"}, CWE: []string{"CWE-200"},
		Remediation: "Keep secrets out of prompts; filter answers for the prompt's text; treat the prompt as public."},
	{ID: RuleInjection, Title: "Prompt injection: the model follows injected instructions", Severity: check.High,
		SeverityRule: "high; critical when the injection also reaches tools or secrets",
		OWASP:        []string{"LLM01:2025"}, CWE: []string{"CWE-77"},
		Remediation: "Separate instructions from user and third-party text, constrain outputs, and never give the model authority the user lacks."},
	{ID: RuleJailbreak, Title: "Jailbreak persona accepted", Severity: check.High,
		SeverityRule: "high", OWASP: []string{"LLM01:2025"}, CWE: []string{"CWE-77"},
		Remediation: "Screen role-play and persona-switch requests; keep policies outside the model's control."},
	{ID: RuleOutputInjection, Title: "Model output carries active markup", Severity: check.Medium,
		SeverityRule: "medium; high when the API renders it as HTML",
		OWASP:        []string{"LLM05:2025"}, CWE: []string{"CWE-79"},
		Remediation: "Treat model output as untrusted: escape it for its output context and strip active markup."},
	{ID: RuleExfiltration, Title: "Model can be made to build exfiltration links", Severity: check.High,
		SeverityRule: "high; critical when a client fetches them (canary hit)",
		OWASP:        []string{"LLM02:2025", "LLM05:2025"}, CWE: []string{"CWE-200"},
		Remediation: "Do not render model-written links and images to external hosts; allow-list image sources."},
	{ID: RuleAgency, Title: "Model can be talked into calling URLs or tools", Severity: check.Critical,
		SeverityRule: "critical: proven by a canary hit",
		OWASP:        []string{"LLM06:2025"}, CWE: []string{"CWE-918", "CWE-250"},
		Remediation: "Give the model only the tools its task needs, with allow-listed destinations and a human in the loop for side effects."},
	{ID: RulePII, Title: "Model discloses other people's personal data", Severity: check.High,
		SeverityRule: "high", OWASP: []string{"LLM02:2025"}, CWE: []string{"CWE-359"},
		Remediation: "Keep personal data out of the model's context unless the caller is entitled to it; filter answers."},
	{ID: RuleCost, Title: "Unbounded generation honoured", Severity: check.Medium,
		SeverityRule: "medium (--active: a huge max_tokens or length request is honoured)",
		OWASP:        []string{"LLM10:2025"}, CWE: []string{"CWE-770"},
		Remediation: "Cap max_tokens server-side and meter usage per caller."},
}
