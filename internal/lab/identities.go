package lab

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// SigningKey is the lab's HS256 token key (exported in the lab's config for claims audits).
const SigningKey = "rampart-lab-signing-key-7f3c9a1e5b2d4f60a8c1e3b5d7f9a2c4"

// Token claims the lab expects.
const (
	Audience = "rampart-lab"
	Issuer   = "https://login.lab.rampart.local"
)

// apiKey is a tenant API key (the seed's API_KEYS).
type apiKey struct {
	Tenant string
	Scopes []string
}

var apiKeys = map[string]apiKey{
	"tenant_a_key": {Tenant: "tenant_a", Scopes: []string{"read:own", "write:own"}},
	"tenant_b_key": {Tenant: "tenant_b", Scopes: []string{"read:own", "write:own"}},
}

// user is a login identity.
type user struct {
	Name     string
	Password string
	Tenant   string
	Role     string // user or admin
	// Kind of token the user gets: "" (HS256, the lab key), "rs" (RS256) or "legacy" (HS256, the legacy secret).
	Kind string
}

var users = map[string]user{
	"alice": {Name: "alice", Password: "Wonderland-2048", Tenant: "tenant_a", Role: "user"},
	"bob":   {Name: "bob", Password: "Builder-Crane-77", Tenant: "tenant_b", Role: "user"},
	"admin": {Name: "admin", Password: "Control-Tower-9", Tenant: "platform", Role: "admin"},
	"carol": {Name: "carol", Password: "Marvel-Flight-31", Tenant: "tenant_a", Role: "user", Kind: "rs"},
	"dave":  {Name: "dave", Password: "Legacy-Lever-12", Tenant: "tenant_b", Role: "user", Kind: "legacy"},
}

// bearer returns the Authorization bearer value, or "".
func bearer(r *http.Request) string {
	v := r.Header.Get("Authorization")
	scheme, rest, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(rest)
}

// keyAuth is the seed's get_key_auth: the key must be known.
func keyAuth(r *http.Request) (apiKey, bool) {
	k, ok := apiKeys[bearer(r)]
	return k, ok
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// decodeUnverified is the seed's mistake: the payload is trusted without checking
// the signature, the algorithm, the audience, the issuer or the expiry.
func decodeUnverified(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) < 2 {
		return nil, errors.New("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// tokenUser authenticates a bearer JWT the way the twin does it. The hardened
// twin takes the role and tenant from its own user table, never from claims.
func (l *Lab) tokenUser(r *http.Request) (user, map[string]any, bool) {
	tok := bearer(r)
	if tok == "" {
		return user{}, nil, false
	}
	if l.vulnerable() {
		claims, err := decodeUnverified(tok)
		if err != nil {
			return user{}, nil, false
		}
		u := user{Name: str(claims["sub"]), Tenant: str(claims["tenant"]), Role: str(claims["role"])}
		return u, claims, u.Name != ""
	}
	claims, err := l.verify(r.Context(), tok, verifier{})
	if err != nil {
		return user{}, nil, false
	}
	u, ok := users[str(claims["sub"])]
	return u, claims, ok
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// login answers POST /auth/login.
func (l *Lab) login(w http.ResponseWriter, r *http.Request) {
	if !l.vulnerable() && !l.logins.allow(clientKey(r)) {
		l.tooMany(w)
		return
	}
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
		l.fail(w, http.StatusBadRequest, "invalid JSON body")
		return
	}
	u, ok := users[body.Username]
	if !ok || subtle.ConstantTimeCompare([]byte(u.Password), []byte(body.Password)) != 1 {
		msg := "invalid username or password"
		if l.vulnerable() { // helpful messages tell attackers which users exist
			msg = map[bool]string{true: "wrong password", false: "no such user"}[ok]
		}
		l.fail(w, http.StatusUnauthorized, msg)
		return
	}
	cookie := &http.Cookie{Name: "session", Value: randomSession(), Path: "/"}
	if !l.vulnerable() {
		cookie.HttpOnly, cookie.SameSite = true, http.SameSiteStrictMode
	}
	http.SetCookie(w, cookie)
	l.writeJSON(w, http.StatusOK, true, map[string]any{"access_token": l.issue(u, time.Now()), "token_type": "Bearer", "expires_in": 900})
}

func randomSession() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
