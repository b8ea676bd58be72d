package jwt

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func hs256(t *testing.T, secret string, claims map[string]any) *Token {
	t.Helper()
	raw, err := Sign("HS256", map[string]any{"typ": "JWT"}, claims, Key{Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestParseAndSign(t *testing.T) {
	tok := hs256(t, "k", map[string]any{"sub": "ann", "exp": 2000000000, "aud": "api"})
	if tok.Alg() != "HS256" || tok.String("sub") != "ann" || !tok.Has("aud") {
		t.Fatalf("parse: %+v", tok)
	}
	if exp, ok := tok.Time("exp"); !ok || exp.Unix() != 2000000000 {
		t.Fatal("exp")
	}
	mac := hmac.New(sha256.New, []byte("k"))
	mac.Write([]byte(tok.SigningInput))
	if !hmac.Equal(mac.Sum(nil), tok.Signature) {
		t.Fatal("HS256 signature wrong")
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for alg, k := range map[string]Key{"RS256": {Private: rk}, "PS256": {Private: rk}, "ES256": {Private: ek}, "HS512": {Secret: []byte("x")}} {
		raw, err := Sign(alg, map[string]any{}, map[string]any{"a": 1}, k)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if p, err := Parse(raw); err != nil || p.Alg() != alg {
			t.Fatalf("%s: %v", alg, err)
		}
	}
	for _, bad := range []string{"", "a.b", "a.b.c.d", "!!.e30.", "e30.!!.", "W10.e30.", strings.Repeat("a", MaxTokenBytes+1)} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q parsed", bad[:min(len(bad), 20)])
		}
	}
}

func TestNoneAndCorrupted(t *testing.T) {
	tok := hs256(t, "k", map[string]any{"sub": "ann"})
	h, c := tok.Clone()
	vs := NoneVariants(h, c)
	if len(vs) != 8 {
		t.Fatalf("%d variants", len(vs))
	}
	for _, v := range vs {
		if strings.Count(v, ".") == 2 {
			p, err := Parse(v)
			if err != nil || !strings.EqualFold(p.Alg(), "none") || len(p.Signature) != 0 {
				t.Errorf("%s: %v", v, err)
			}
		}
	}
	cs := Corrupted(tok)
	if len(cs) != 2 || cs[0] == tok.Raw || !strings.HasSuffix(cs[1], ".") {
		t.Fatalf("corrupted: %v", cs)
	}
}

func TestConfusionSecretsAndJWKS(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwk := PublicJWK(&rk.PublicKey, "k1")
	data, _ := json.Marshal(map[string]any{"keys": []any{jwk, map[string]string{"kty": "oct", "k": "x"}}})
	keys, err := ParseJWKS(data)
	if err != nil || len(keys) != 1 || keys[0].Kid != "k1" || keys[0].Key.(*rsa.PublicKey).N.Cmp(rk.N) != 0 {
		t.Fatalf("jwks: %v %v", keys, err)
	}
	secrets := ConfusionSecrets(&rk.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	want := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	found := false
	for _, s := range secrets {
		if string(s) == string(want) {
			found = true
		}
	}
	if !found || len(secrets) < 6 {
		t.Fatalf("the PKIX PEM with its newline must be among %d secrets", len(secrets))
	}
	if _, err := ParseJWKS([]byte(`{"keys":[{"kty":"RSA","n":"AQ","e":"AQAB"}]}`)); err == nil {
		t.Error("a toy RSA key accepted")
	}
	if pub, err := ParsePublicKeyPEM(want); err != nil || pub.(*rsa.PublicKey).E != rk.E {
		t.Error("PEM public key")
	}
}

func TestCrack(t *testing.T) {
	wl := BuiltIn()
	if wl.Len() < 5000 || BaseCount() < 300 {
		t.Fatalf("built-in list: %d candidates from %d base secrets", wl.Len(), BaseCount())
	}
	for _, secret := range []string{"keyboard cat", "Supersecret2025", "SECRET_KEY_prod"} {
		tok := hs256(t, secret, map[string]any{"sub": "x"})
		r := Crack(context.Background(), tok, wl, time.Minute)
		if !r.Found || r.Secret != secret {
			t.Errorf("%s not cracked: %+v", secret, r)
		}
	}
	strong := hs256(t, "rampart-lab-signing-key-7f3c9a1e5b2d4f60a8c1e3b5d7f9a2c4", map[string]any{"sub": "x"})
	if r := Crack(context.Background(), strong, wl, time.Minute); r.Found || int(r.Tried) != wl.Len() {
		t.Errorf("strong secret: %+v", r)
	}
	long := strings.Repeat("z", 100) // longer than the block: hashed first
	tok := hs256(t, long, map[string]any{})
	if r := Crack(context.Background(), tok, List{[]byte("a"), []byte(long)}, time.Minute); !r.Found {
		t.Error("long key not cracked")
	}
	if r := Crack(context.Background(), strong, wl, time.Nanosecond); !r.TimedOut || r.Found {
		t.Errorf("timeout: %+v", r)
	}
	if Redact("secret123") != "s*******3" {
		t.Errorf("redact: %s", Redact("secret123"))
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/fuzz-seeds/*")
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		f.Add(string(b))
	}
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err == nil && (tok.Header == nil || tok.Claims == nil) {
			t.Fatal("nil maps on success")
		}
		if err == nil {
			h, c := tok.Clone()
			_ = NoneVariants(h, c)
			_ = Corrupted(tok)
			tok.Time("exp")
		}
	})
}
