package authn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks/checktest"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/jwt"
	"github.com/rampart-scan/rampart/internal/report"
)

const tokensSpec = `openapi: 3.0.3
info: {title: Tokens, version: "1"}
security: [{bearer: []}]
paths:
  /v1/profile:
    get: {responses: {"200": {description: ok}}}
  /v1/orders:
    get: {responses: {"200": {description: ok}}}
  /v1/admin/stats:
    get:
      summary: Platform statistics (administrators only)
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer, bearerFormat: JWT}
`

// tokensAPI verifies HS256 tokens with one shared verifier; each flag is one mistake.
type tokensAPI struct {
	secret     string
	acceptNone bool
	skipSig    bool
	skipExp    bool
	skipAud    bool
	skipIss    bool
}

func (a *tokensAPI) verify(raw string) (map[string]any, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, false
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, false
	}
	var h, c map[string]any
	if json.Unmarshal(hb, &h) != nil || json.Unmarshal(cb, &c) != nil {
		return nil, false
	}
	switch alg, _ := h["alg"].(string); {
	case strings.EqualFold(alg, "none"):
		if !a.acceptNone {
			return nil, false
		}
	case alg == "HS256":
		m := hmac.New(sha256.New, []byte(a.secret))
		m.Write([]byte(parts[0] + "." + parts[1]))
		if !a.skipSig && !hmac.Equal(m.Sum(nil), sig) {
			return nil, false
		}
	default:
		return nil, false
	}
	exp, _ := c["exp"].(float64)
	if !a.skipExp && time.Now().Unix() > int64(exp) {
		return nil, false
	}
	if !a.skipAud && c["aud"] != "orders-api" {
		return nil, false
	}
	if !a.skipIss && c["iss"] != "https://login.orders.example" {
		return nil, false
	}
	if nbf, ok := c["nbf"].(float64); ok && !a.skipExp && time.Now().Unix() < int64(nbf) {
		return nil, false
	}
	return c, true
}

func (a *tokensAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	claims, ok := a.verify(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	if !ok {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":"invalid token"}`)
		return
	}
	switch r.URL.Path {
	case "/v1/profile":
		fmt.Fprintf(w, `{"user":%q,"plan":"pro","seats":4}`, claims["sub"])
	case "/v1/orders":
		fmt.Fprintf(w, `[{"id":"o-1","owner":%q,"total":120},{"id":"o-2","owner":%q,"total":80}]`, claims["sub"], claims["sub"])
	case "/v1/admin/stats":
		if claims["role"] != "admin" {
			w.WriteHeader(403)
			fmt.Fprint(w, `{"error":"forbidden"}`)
			return
		}
		fmt.Fprint(w, `{"users":1204,"revenue":99120,"tenants":17}`)
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":"not found"}`)
	}
}

func userToken(t *testing.T, secret string) string {
	tok, err := jwt.Sign("HS256", map[string]any{"typ": "JWT"}, map[string]any{
		"sub": "u-17", "role": "user", "aud": "orders-api", "iss": "https://login.orders.example",
		"iat": time.Now().Unix(), "exp": time.Now().Add(10 * time.Minute).Unix(),
	}, jwt.Key{Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func scanTokens(t *testing.T, api *tokensAPI, keys check.JWTKeys) *report.Report {
	t.Helper()
	id := &identity.Identity{IDName: "user", Role: identity.RoleUser, Headers: http.Header{"Authorization": {"Bearer " + userToken(t, api.secret)}}}

	return checktest.Scan(t, checktest.Target{Handler: api, Spec: tokensSpec, Identities: []*identity.Identity{id}, JWT: keys}, NewJWT())
}

func byRule(r *report.Report) map[string]check.Finding {
	out := map[string]check.Finding{}
	for _, f := range r.Findings {
		out[f.Rule] = f
	}
	return out
}

const strong = "k9Xq2-vT7pLm4-Zr8sWd1-Hf6yNc3-Bj5gQe0"

func TestJWTStrictVerifierSilent(t *testing.T) {
	r := scanTokens(t, &tokensAPI{secret: strong}, check.JWTKeys{Secret: strong})
	for _, f := range r.Findings {
		if f.Severity > check.Low {
			t.Errorf("false positive: %s %s", f.Rule, f.Detail)
		}
	}
}

func TestJWTFlaws(t *testing.T) {
	cases := []struct {
		name string
		api  *tokensAPI
		keys check.JWTKeys
		want []string
		not  []string
	}{
		{"alg none", &tokensAPI{secret: strong, acceptNone: true}, check.JWTKeys{}, []string{RuleAlgNone, RuleClaimEscalation}, []string{RuleSigNotVerified, RuleWeakSecret}},
		{"signature ignored", &tokensAPI{secret: strong, skipSig: true}, check.JWTKeys{}, []string{RuleSigNotVerified, RuleClaimEscalation}, []string{RuleAlgNone}},
		{"weak secret", &tokensAPI{secret: "changeme2024"}, check.JWTKeys{}, []string{RuleWeakSecret, RuleClaimEscalation}, []string{RuleAlgNone, RuleSigNotVerified}},
		{"exp and aud with the tester's key", &tokensAPI{secret: strong, skipExp: true, skipAud: true}, check.JWTKeys{Secret: strong}, []string{RuleExpiredAccepted, RuleAudience, RuleNotBeforeIgnored}, []string{RuleClaimEscalation, RuleIssuer}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := byRule(scanTokens(t, c.api, c.keys))
			for _, w := range c.want {
				f, ok := got[w]
				if !ok {
					t.Errorf("missing %s (got %v)", w, keysOf(got))
					continue
				}
				if f.Confidence != check.Confirmed {
					t.Errorf("%s: %s", w, f.Confidence)
				}
			}
			for _, n := range c.not {
				if _, ok := got[n]; ok {
					t.Errorf("unexpected %s", n)
				}
			}
		})
	}
}

func TestJWTClaimsNeedAKey(t *testing.T) {
	r := scanTokens(t, &tokensAPI{secret: strong, skipExp: true}, check.JWTKeys{})
	if _, ok := byRule(r)[RuleExpiredAccepted]; ok {
		t.Fatal("expired-accepted without any signing key")
	}
	said := false
	for _, w := range r.Warnings {
		if strings.Contains(w, "not assessed, no signing key") {
			said = true
		}
	}
	if !said {
		t.Fatalf("the report must say the claims rules were not assessed: %v", r.Warnings)
	}
}

func keysOf(m map[string]check.Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
