package lab

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
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
}

var users = map[string]user{
	"alice": {Name: "alice", Password: "Wonderland-2048", Tenant: "tenant_a", Role: "user"},
	"bob":   {Name: "bob", Password: "Builder-Crane-77", Tenant: "tenant_b", Role: "user"},
	"admin": {Name: "admin", Password: "Control-Tower-9", Tenant: "platform", Role: "admin"},
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

// signToken issues an HS256 token for a user.
func signToken(u user, now time.Time) string {
	header := b64([]byte(`{"alg":"HS256","typ":"JWT"}`))
	scope := "read:own write:own"
	if u.Role == "admin" {
		scope = "admin:read:data"
	}
	claims, _ := json.Marshal(map[string]any{
		"sub": u.Name, "tenant": u.Tenant, "role": u.Role, "scope": scope,
		"aud": Audience, "iss": Issuer, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(),
	})
	input := header + "." + b64(claims)
	mac := hmac.New(sha256.New, []byte(SigningKey))
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}

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

// decodeVerified is the seed's fix: HS256 only, signature, audience, issuer, expiry and not-before checked.
func decodeVerified(tok string, now time.Time) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, err
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hdr, &h) != nil || h.Alg != "HS256" {
		return nil, errors.New("algorithm not allowed")
	}
	mac := hmac.New(sha256.New, []byte(SigningKey))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || subtle.ConstantTimeCompare(sig, mac.Sum(nil)) != 1 {
		return nil, errors.New("bad signature")
	}
	claims, err := decodeUnverified(tok)
	if err != nil {
		return nil, err
	}
	if claims["aud"] != Audience || claims["iss"] != Issuer {
		return nil, errors.New("wrong audience or issuer")
	}
	exp, _ := claims["exp"].(float64)
	nbf, _ := claims["nbf"].(float64)
	if exp == 0 || now.Unix() >= int64(exp) || (nbf != 0 && now.Unix() < int64(nbf)) {
		return nil, errors.New("token expired or not yet valid")
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
	claims, err := decodeVerified(tok, time.Now())
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
		l.fail(w, http.StatusUnauthorized, "invalid username or password")
		return
	}
	l.writeJSON(w, http.StatusOK, true, map[string]any{"access_token": signToken(u, time.Now()), "token_type": "Bearer", "expires_in": 900})
}
