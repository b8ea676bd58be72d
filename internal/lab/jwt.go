package lab

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// The JWT routes reproduce the seed's decode_token mistakes one at a time, so
// each rule is proven on its own route; the hardened twin verifies every token
// strictly (pinned algorithm, signature, audience, issuer, expiry, not-before).

//go:embed keys/lab-rsa.pem
var labRSAPEM []byte

// labRSA is the lab's RS256 signing key (a fixed test key, like any lab's).
var labRSA = func() *rsa.PrivateKey {
	block, _ := pem.Decode(labRSAPEM)
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		panic("lab RSA key: " + err.Error())
	}
	return k
}()

const labKid = "lab-rsa-1"

// legacySecret signs the legacy service's tokens: guessable in the vulnerable twin.
func (l *Lab) legacySecret() string {
	if l.vulnerable() {
		return "keyboard cat2024"
	}
	return "legacy-9c1f44e2b87a4d0f9e36c5a1d2b7e8f30c6a9b1d"
}

// kidFiles is the virtual key directory the kid header is resolved in.
var kidFiles = map[string]string{"/keys/default": SigningKey, "/dev/null": ""}

// verifier lists what a route's token check skips (the hardened twin skips nothing).
type verifier struct {
	allowNone bool
	skipTime  bool
	skipAud   bool
	skipIss   bool
	kidFS     bool
	jku       bool
	confusion bool
}

var errToken = errors.New("invalid token")

func hmacOK(key []byte, input string, sig []byte) bool {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(input))
	return subtle.ConstantTimeCompare(m.Sum(nil), sig) == 1
}

// verify checks a token as the route's verifier does.
func (l *Lab) verify(ctx context.Context, tok string, v verifier) (map[string]any, error) {
	if !l.vulnerable() {
		v = verifier{}
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errToken
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, errToken
	}
	var h map[string]any
	if json.Unmarshal(hb, &h) != nil {
		return nil, errToken
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errToken
	}
	input := parts[0] + "." + parts[1]
	alg := str(h["alg"])
	ok := false
	switch {
	case strings.EqualFold(alg, "none"):
		ok = v.allowNone
	case alg == "HS256":
		keys := [][]byte{[]byte(SigningKey), []byte(l.legacySecret())}
		if v.kidFS {
			if kid := str(h["kid"]); kid != "" {
				content, found := kidFiles[path.Join("/keys", kid)]
				if !found {
					return nil, errToken
				}
				keys = [][]byte{[]byte(content)}
			}
		}
		if v.confusion {
			der, _ := x509.MarshalPKIXPublicKey(&labRSA.PublicKey)
			keys = append(keys, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		}
		for _, k := range keys {
			if hmacOK(k, input, sig) {
				ok = true
			}
		}
	case alg == "RS256":
		pub := &labRSA.PublicKey
		if u := str(h["jku"]); u != "" && v.jku {
			if pub, err = fetchJWK(ctx, u); err != nil {
				return nil, errToken
			}
		} else if u := str(h["x5u"]); u != "" && v.jku {
			if pub, err = fetchCert(ctx, u); err != nil {
				return nil, errToken
			}
		}
		sum := sha256.Sum256([]byte(input))
		ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
	}
	if !ok {
		return nil, errToken
	}
	claims, err := decodeUnverified(tok)
	if err != nil {
		return nil, errToken
	}
	now := time.Now().Unix()
	exp, hasExp := claims["exp"].(float64)
	nbf, _ := claims["nbf"].(float64)
	if !v.skipTime && ((hasExp && now >= int64(exp)) || (!hasExp && !l.vulnerable()) || (nbf != 0 && now+5 < int64(nbf))) {
		return nil, errToken
	}
	if !v.skipAud && claims["aud"] != Audience {
		return nil, errToken
	}
	if !v.skipIss && claims["iss"] != Issuer {
		return nil, errToken
	}
	return claims, nil
}

// loopbackGet downloads a small document from a literal loopback address only:
// the lab never resolves names or leaves the machine.
func loopbackGet(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return nil, errToken
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return nil, errToken
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: (&net.Dialer{}).DialContext}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return nil, errToken
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 64<<10))
}

// fetchCert reads the RSA key of a PEM certificate at a loopback URL.
func fetchCert(ctx context.Context, raw string) (*rsa.PublicKey, error) {
	data, err := loopbackGet(ctx, raw)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errToken
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, errToken
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errToken
	}
	return pub, nil
}

// fetchJWK reads the first RSA key of a JWKS at a loopback URL.
func fetchJWK(ctx context.Context, raw string) (*rsa.PublicKey, error) {
	data, err := loopbackGet(ctx, raw)
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []struct{ N, E string } `json:"keys"`
	}
	if json.Unmarshal(data, &set) != nil || len(set.Keys) == 0 {
		return nil, errToken
	}
	n, err1 := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	e, err2 := base64.RawURLEncoding.DecodeString(set.Keys[0].E)
	if err1 != nil || err2 != nil || len(e) == 0 {
		return nil, errToken
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
}

// issue signs a token for a user according to the user's token kind.
func (l *Lab) issue(u user, now time.Time) string {
	scope := "read:own write:own"
	if u.Role == "admin" {
		scope = "admin:read:data"
	}
	claims := map[string]any{"sub": u.Name, "tenant": u.Tenant, "role": u.Role, "scope": scope, "aud": Audience, "iss": Issuer, "iat": now.Unix(), "nbf": now.Unix()}
	life := 15 * time.Minute
	if l.vulnerable() {
		life = 30 * 24 * time.Hour // long-lived tokens
	}
	claims["exp"] = now.Add(life).Unix()
	header := map[string]any{"alg": "HS256", "typ": "JWT"}
	key := []byte(SigningKey)
	switch u.Kind {
	case "rs":
		header = map[string]any{"alg": "RS256", "typ": "JWT", "kid": labKid}
	case "legacy":
		key = []byte(l.legacySecret())
		if l.vulnerable() {
			delete(claims, "exp")                                                                   // legacy tokens never expire
			claims["password_hash"] = "$2b$10$Ck1u0fT0kD3mYl0bJ3yZ4e7qK9wR2vT6xN8pL1sA5dF0gH3jU6iO" // and carry secrets
		}
	}
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	input := b64(hb) + "." + b64(cb)
	if u.Kind == "rs" {
		sum := sha256.Sum256([]byte(input))
		sig, _ := rsa.SignPKCS1v15(nil, labRSA, crypto.SHA256, sum[:])
		return input + "." + b64(sig)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(input))
	return input + "." + b64(m.Sum(nil))
}

func jwtModule() module {
	route := func(p, id, summary string) string {
		return fmt.Sprintf(`  %s:
    get:
      tags: [tokens]
      operationId: %s
      summary: %s
      security: [{BearerJWT: []}]
      responses:
        "200":
          description: The caller as the route sees it
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Caller"}
        "401": {description: Bad token}
`, p, id, summary)
	}
	return module{
		name:   "jwt",
		routes: jwtRoutes,
		paths: route("/jwt/none/me", "whoAmINone", "Who am I (reports service)") +
			route("/jwt/claims/me", "whoAmIClaims", "Who am I (billing service)") +
			route("/jwt/kid/me", "whoAmIKid", "Who am I (key-rotation service)") +
			route("/jwt/jku/me", "whoAmIJku", "Who am I (federated service)") +
			route("/jwt/rsa/me", "whoAmIRsa", "Who am I (RS256 service)") +
			route("/jwt/legacy/me", "whoAmILegacy", "Who am I (legacy service)") +
			`  /.well-known/jwks.json:
    get:
      tags: [tokens]
      operationId: jwks
      summary: The RS256 signing keys
      security: []
      responses:
        "200": {description: JWKS}
  /auth/handoff:
    get:
      tags: [auth]
      operationId: handoff
      summary: Hand the session over to the web app
      security: [{BearerJWT: []}]
      responses:
        "200": {description: A one-time code}
        "302": {description: Redirect to the web app}
`,
		schemas: `    Caller:
      type: object
      properties:
        sub: {type: string}
        tenant: {type: string}
        role: {type: string}
        route: {type: string}
`,
		manifest: []Flaw{
			{Rule: "jwt.alg-none", Method: "GET", Path: "/jwt/none/me", Note: "alg none is accepted"},
			{Rule: "jwt.expired-accepted", Method: "GET", Path: "/jwt/claims/me", Note: "exp is not checked"},
			{Rule: "jwt.not-before-ignored", Method: "GET", Path: "/jwt/claims/me", Note: "nbf is not checked"},
			{Rule: "jwt.audience-not-validated", Method: "GET", Path: "/jwt/claims/me", Note: "aud is not checked"},
			{Rule: "jwt.issuer-not-validated", Method: "GET", Path: "/jwt/claims/me", Note: "iss is not checked"},
			{Rule: "jwt.kid-injection", Method: "GET", Path: "/jwt/kid/me", Note: "kid is a path in the key directory: ../../dev/null is an empty key"},
			{Rule: "jwt.jku-injection", Method: "GET", Path: "/jwt/jku/me", Note: "the key is fetched from the token's jku URL"},
			{Rule: "jwt.x5u-injection", Method: "GET", Path: "/jwt/jku/me", Note: "the certificate is fetched from the token's x5u URL"},
			{Rule: "jwt.key-confusion", Method: "GET", Path: "/jwt/rsa/me", Note: "HS256 tokens are checked with the RSA public key's PEM as HMAC secret"},
			{Rule: "jwt.weak-secret", Method: "*", Path: "*", Note: "the legacy service signs with \"keyboard cat2024\""},
			{Rule: "jwt.missing-exp", Method: "*", Path: "*", Note: "legacy tokens carry no exp"},
			{Rule: "jwt.sensitive-claims", Method: "*", Path: "*", Note: "legacy tokens carry a password hash"},
			{Rule: "jwt.long-lifetime", Method: "*", Path: "*", Note: "tokens live 30 days"},
			{Rule: "jwt.token-in-url", Method: "GET", Path: "/auth/handoff", Note: "the handoff redirects with the access token in the query string"},
		},
	}
}

func jwtRoutes(l *Lab, mux *http.ServeMux) {
	serve := func(name string, v verifier) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			claims, err := l.verify(r.Context(), bearer(r), v)
			if err != nil {
				l.fail(w, http.StatusUnauthorized, "Invalid authentication credentials")
				return
			}
			l.writeJSON(w, http.StatusOK, true, map[string]any{"sub": claims["sub"], "tenant": claims["tenant"], "role": claims["role"], "route": name})
		}
	}
	mux.HandleFunc("GET /jwt/none/me", serve("none", verifier{allowNone: true}))
	mux.HandleFunc("GET /jwt/claims/me", serve("claims", verifier{skipTime: true, skipAud: true, skipIss: true}))
	mux.HandleFunc("GET /jwt/kid/me", serve("kid", verifier{kidFS: true}))
	mux.HandleFunc("GET /jwt/jku/me", serve("jku", verifier{jku: true}))
	mux.HandleFunc("GET /jwt/rsa/me", serve("rsa", verifier{confusion: true}))
	mux.HandleFunc("GET /jwt/legacy/me", serve("legacy", verifier{}))
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		pub := labRSA.PublicKey
		l.writeJSON(w, http.StatusOK, false, map[string]any{"keys": []any{map[string]string{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": labKid,
			"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("GET /auth/handoff", func(w http.ResponseWriter, r *http.Request) {
		if _, err := l.verify(r.Context(), bearer(r), verifier{}); err != nil {
			l.fail(w, http.StatusUnauthorized, "Invalid authentication credentials")
			return
		}
		if l.vulnerable() {
			http.Redirect(w, r, "/app/welcome?access_token="+url.QueryEscape(bearer(r)), http.StatusFound)
			return
		}
		l.writeJSON(w, http.StatusOK, true, map[string]string{"code": "hc_" + fmt.Sprint(time.Now().UnixNano()%1e9)})
	})
}
