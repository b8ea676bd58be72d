package authn

import "github.com/rampart-scan/rampart/internal/check"

// Rule IDs of the JWT family (category authentication).
const (
	RuleAlgNone          = "jwt.alg-none"
	RuleSigNotVerified   = "jwt.signature-not-verified"
	RuleWeakSecret       = "jwt.weak-secret"
	RuleKeyConfusion     = "jwt.key-confusion"
	RuleKidInjection     = "jwt.kid-injection"
	RuleJkuInjection     = "jwt.jku-injection"
	RuleX5uInjection     = "jwt.x5u-injection"
	RuleExpiredAccepted  = "jwt.expired-accepted"
	RuleNotBeforeIgnored = "jwt.not-before-ignored"
	RuleAudience         = "jwt.audience-not-validated"
	RuleIssuer           = "jwt.issuer-not-validated"
	RuleClaimEscalation  = "jwt.claim-escalation"
	RuleMissingExp       = "jwt.missing-exp"
	RuleLongLifetime     = "jwt.long-lifetime"
	RuleSensitiveClaims  = "jwt.sensitive-claims"
	RuleTokenInURL       = "jwt.token-in-url"
)

var jwtRefs = []string{"https://owasp.org/API-Security/editions/2023/en/0xa2-broken-authentication/", "https://datatracker.ietf.org/doc/html/rfc8725"}

var jwtRules = []check.Rule{
	{ID: RuleAlgNone, Title: "Unsigned tokens (alg none) accepted", Severity: check.Critical,
		SeverityRule: "critical; never lowered", OWASP: []string{"API2:2023"}, CWE: []string{"CWE-347"},
		Remediation: "Pin the accepted algorithms on the verifier (e.g. algorithms=[\"RS256\"]) and reject alg none in every spelling.", References: jwtRefs, Shared: true},
	{ID: RuleSigNotVerified, Title: "Token signature not verified", Severity: check.Critical,
		SeverityRule: "critical; not reported when the server answers a corrupted signature with 401", OWASP: []string{"API2:2023"}, CWE: []string{"CWE-347"},
		Remediation: "Verify the signature before reading any claim (jwt.decode with a key and algorithms, never verify=False).", References: jwtRefs, Shared: true,
		Supersedes: []string{RuleAlgNone}},
	{ID: RuleWeakSecret, Title: "HMAC secret of the tokens is guessable", Severity: check.Critical,
		SeverityRule: "critical: anyone can mint tokens; never lowered", OWASP: []string{"API2:2023"}, CWE: []string{"CWE-521", "CWE-798"},
		Remediation: "Use a random secret of at least 256 bits from a secret store (or asymmetric keys) and rotate it; every token signed with the old secret must be revoked.", References: jwtRefs, Shared: true},
	{ID: RuleKeyConfusion, Title: "Public key accepted as an HMAC secret (algorithm confusion)", Severity: check.Critical,
		SeverityRule: "critical; never lowered", OWASP: []string{"API2:2023"}, CWE: []string{"CWE-347", "CWE-327"},
		Remediation: "Bind each key to its algorithm: verify RS/ES/PS tokens with the public key only, and never let the token's alg header pick HMAC.", References: jwtRefs, Shared: true},
	{ID: RuleKidInjection, Title: "Token kid header selects an attacker-controlled key", Severity: check.High,
		SeverityRule: "high; critical when it also unlocks a privileged operation", OWASP: []string{"API2:2023"}, CWE: []string{"CWE-22", "CWE-89", "CWE-347"},
		Remediation: "Look kid up in a fixed key map; never use it as a file path or in a query.", References: jwtRefs, Shared: true},
	{ID: RuleJkuInjection, Title: "Server fetches a signing key from the token's jku URL", Severity: check.High,
		SeverityRule: "high (proven by a canary hit); critical when the token signed with the fetched key is accepted", OWASP: []string{"API2:2023", "API7:2023"}, CWE: []string{"CWE-347", "CWE-918"},
		Remediation: "Ignore jku/x5u or allow-list exact key URLs; fetch keys from configuration, never from the token.", References: jwtRefs, Shared: true},
	{ID: RuleX5uInjection, Title: "Server fetches a certificate from the token's x5u URL", Severity: check.High,
		SeverityRule: "high (proven by a canary hit); critical when the token signed with the fetched key is accepted", OWASP: []string{"API2:2023", "API7:2023"}, CWE: []string{"CWE-347", "CWE-918"},
		Remediation: "Ignore x5u or allow-list exact certificate URLs.", References: jwtRefs, Shared: true},
	{ID: RuleExpiredAccepted, Title: "Expired tokens accepted", Severity: check.High,
		SeverityRule: "high; needs a signing key (won by attack or given by the tester)", OWASP: []string{"API2:2023"}, CWE: []string{"CWE-613"},
		Remediation: "Check exp (with a small leeway) on every request.", References: jwtRefs, Shared: true},
	{ID: RuleNotBeforeIgnored, Title: "Not-yet-valid tokens accepted (nbf ignored)", Severity: check.Medium,
		SeverityRule: "medium; reported only when the forged future nbf is the only change", OWASP: []string{"API2:2023"}, CWE: []string{"CWE-613"},
		Remediation: "Check nbf (with a small leeway).", References: jwtRefs, Shared: true},
	{ID: RuleAudience, Title: "Token audience not validated", Severity: check.High,
		SeverityRule: "high: tokens minted for another service work here; reported only when the issuer's tokens carry aud", OWASP: []string{"API2:2023"}, CWE: []string{"CWE-287"},
		Remediation: "Require aud to name this API.", References: jwtRefs, Shared: true},
	{ID: RuleIssuer, Title: "Token issuer not validated", Severity: check.High,
		SeverityRule: "high; reported only when the issuer's tokens carry iss", OWASP: []string{"API2:2023"}, CWE: []string{"CWE-287"},
		Remediation: "Require iss to be your identity provider.", References: jwtRefs, Shared: true},
	{ID: RuleClaimEscalation, Title: "Raised token claims unlock privileged data", Severity: check.Critical,
		SeverityRule: "critical; uses only keys won by attack (never the tester's key)", OWASP: []string{"API2:2023", "API5:2023"}, CWE: []string{"CWE-269", "CWE-347"},
		Remediation: "Take roles and scopes from server-side records, and fix the signature flaw that let the token be forged."},
	{ID: RuleMissingExp, Title: "Tokens never expire (no exp)", Severity: check.Medium,
		SeverityRule: "medium", OWASP: []string{"API2:2023"}, CWE: []string{"CWE-613"},
		Remediation: "Issue short-lived tokens with exp and refresh them.", References: jwtRefs},
	{ID: RuleLongLifetime, Title: "Tokens live long", Severity: check.Low,
		SeverityRule: "low: lifetime above --jwt-long-lifetime (24h by default)", OWASP: []string{"API2:2023"}, CWE: []string{"CWE-613"},
		Remediation: "Keep access tokens short-lived (minutes) and use refresh tokens.", References: jwtRefs},
	{ID: RuleSensitiveClaims, Title: "Sensitive data in token claims", Severity: check.Medium,
		SeverityRule: "medium; the holder's own identifiers are not sensitive", OWASP: []string{"API3:2023"}, CWE: []string{"CWE-312"},
		Remediation: "Keep tokens to identifiers and authorization claims: they are only encoded, not encrypted.", References: jwtRefs},
	{ID: RuleTokenInURL, Title: "Token in a URL", Severity: check.Medium,
		SeverityRule: "medium", OWASP: []string{"API2:2023"}, CWE: []string{"CWE-598"},
		Remediation: "Send tokens in the Authorization header or a cookie, never in query strings or redirect locations (they end up in logs and Referer headers).", References: jwtRefs},
}
