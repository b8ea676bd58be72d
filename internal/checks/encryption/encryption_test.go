package encryption

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks/checktest"
	"github.com/rampart-scan/rampart/internal/identity"
)

const spec = `openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /page:
    get: {responses: {"200": {description: ok}}}
`

func cert(t *testing.T, notAfter time.Time, names []string, ips []net.IP) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Now().Add(-48 * time.Hour),
		NotAfter: notAfter, DNSNames: names, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

type site struct {
	hsts, cookieFlags, mixed bool
}

func (s site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.hsts {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	c := &http.Cookie{Name: "session", Value: "abc123", Path: "/"}
	if s.cookieFlags {
		c.Secure, c.HttpOnly, c.SameSite = true, true, http.SameSiteLaxMode
	}
	http.SetCookie(w, c)
	w.Header().Set("Content-Type", "text/html")
	src := "https://cdn.example/app.js"
	if s.mixed {
		src = "http://cdn.example/app.js"
	}
	fmt.Fprintf(w, `<html><body><script src="%s"></script>hello</body></html>`, src)
}

func scan(t *testing.T, h http.Handler, conf *tls.Config) map[string]check.Finding {
	t.Helper()
	r := checktest.Scan(t, checktest.Target{Handler: h, Spec: spec, TLS: conf, Identities: []*identity.Identity{checktest.Key("u", "X-Key", "k")}}, New())
	out := map[string]check.Finding{}
	for _, f := range r.Findings {
		out[f.Rule] = f
	}
	return out
}

func TestTLSCases(t *testing.T) {
	loop := []net.IP{net.ParseIP("127.0.0.1")}
	good := cert(t, time.Now().Add(365*24*time.Hour), nil, loop)
	cases := []struct {
		name string
		h    site
		conf *tls.Config
		want []string
		not  []string
	}{
		{"self-signed, no HSTS, bad cookie, mixed content", site{mixed: true}, &tls.Config{Certificates: []tls.Certificate{good}},
			[]string{RuleCertificate, RuleHSTS, RuleCookieFlags, RuleMixedContent}, []string{RuleOldProtocol, RuleWeakCipher, RulePlainHTTP}},
		{"expired", site{hsts: true, cookieFlags: true}, &tls.Config{Certificates: []tls.Certificate{cert(t, time.Now().Add(-time.Hour), nil, loop)}},
			[]string{RuleCertificate}, []string{RuleHSTS, RuleCookieFlags}},
		{"wrong host", site{hsts: true, cookieFlags: true}, &tls.Config{Certificates: []tls.Certificate{cert(t, time.Now().Add(time.Hour*9000), []string{"other.example"}, nil)}},
			[]string{RuleCertificate}, nil},
		{"TLS 1.0 accepted", site{hsts: true, cookieFlags: true}, &tls.Config{Certificates: []tls.Certificate{good}, MinVersion: tls.VersionTLS10},
			[]string{RuleOldProtocol}, []string{RuleHSTS}},
		{"3DES accepted", site{hsts: true, cookieFlags: true}, &tls.Config{Certificates: []tls.Certificate{good}, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}},
			[]string{RuleWeakCipher}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := scan(t, c.h, c.conf)
			for _, w := range c.want {
				if _, ok := got[w]; !ok {
					t.Errorf("missing %s (got %v)", w, keys(got))
				}
			}
			for _, n := range c.not {
				if _, ok := got[n]; ok {
					t.Errorf("unexpected %s: %s", n, got[n].Detail)
				}
			}
		})
	}
}

func TestPlainHTTPOnLoopbackIsInfo(t *testing.T) {
	got := scan(t, site{}, nil)
	f, ok := got[RulePlainHTTP]
	if !ok || f.Severity != check.Info {
		t.Fatalf("plain http on loopback: %+v", f)
	}
	if _, ok := got[RuleHSTS]; ok {
		t.Error("HSTS judged on plain HTTP")
	}
}

func keys(m map[string]check.Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
