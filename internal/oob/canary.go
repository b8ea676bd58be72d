// Package oob is the out-of-band canary: HTTP and HTTPS listeners (self-signed)
// that record every request carrying a probe token, so checks can prove that a
// target called out (blind SSRF, callbacks, LLM tool use).
package oob

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Hit is one request the canary received.
type Hit struct {
	Token      string
	Method     string
	URI        string
	RemoteAddr string
	Header     http.Header
	Body       []byte
	TLS        bool
	At         time.Time
}

// Response is what the canary answers for a token.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// Canary is a running listener pair.
type Canary struct {
	httpBase, httpsBase string
	servers             []*http.Server

	apiToken string // set for a standalone canary: its hits are served at /_rampart/

	mu        sync.Mutex
	hits      map[string][]Hit
	responses map[string]Response
	notify    map[string][]chan struct{}
}

var tokenRe = regexp.MustCompile(`rp[0-9a-f]{16}`)

// Start listens on loopback (random ports) for HTTP and HTTPS.
func Start(host string) (*Canary, error) {
	if host == "" {
		host = "127.0.0.1"
	}
	return listen(net.JoinHostPort(host, "0"), net.JoinHostPort(host, "0"))
}

func listen(httpAddr, httpsAddr string) (*Canary, error) {
	c := &Canary{hits: map[string][]Hit{}, responses: map[string]Response{}, notify: map[string][]chan struct{}{}}
	lnHTTP, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return nil, err
	}
	lnTLS, err := net.Listen("tcp", httpsAddr)
	if err != nil {
		lnHTTP.Close()
		return nil, err
	}
	host, _, _ := net.SplitHostPort(lnHTTP.Addr().String())
	cert, err := selfSigned(host)
	if err != nil {
		lnHTTP.Close()
		lnTLS.Close()
		return nil, err
	}
	c.httpBase = "http://" + lnHTTP.Addr().String()
	c.httpsBase = "https://" + lnTLS.Addr().String()
	for _, pair := range []struct {
		ln  net.Listener
		tls bool
	}{{lnHTTP, false}, {tls.NewListener(lnTLS, &tls.Config{Certificates: []tls.Certificate{cert}}), true}} {
		srv := &http.Server{Handler: c.handler(pair.tls), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, ErrorLog: nil}
		c.servers = append(c.servers, srv)
		go srv.Serve(pair.ln) //nolint:errcheck // ends with Close
	}
	return c, nil
}

func selfSigned(host string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "rampart canary"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func (c *Canary) handler(isTLS bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, apiPrefix) {
			c.api(w, r)
			return
		}
		tok := tokenRe.FindString(r.URL.RequestURI())
		if tok == "" {
			tok = tokenRe.FindString(r.Host)
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if tok != "" {
			c.record(Hit{Token: tok, Method: r.Method, URI: r.URL.RequestURI(), RemoteAddr: r.RemoteAddr, Header: r.Header.Clone(), Body: body, TLS: isTLS, At: time.Now()})
		}
		c.mu.Lock()
		resp, ok := c.responses[tok]
		c.mu.Unlock()
		if !ok {
			resp = Response{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte("rampart canary " + tok + "\n")}
		}
		w.Header().Set("Content-Type", resp.ContentType)
		w.WriteHeader(resp.Status)
		w.Write(resp.Body) //nolint:errcheck
	})
}

func (c *Canary) record(h Hit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.hits[h.Token]) < 100 {
		c.hits[h.Token] = append(c.hits[h.Token], h)
	}
	for _, ch := range c.notify[h.Token] {
		close(ch)
	}
	delete(c.notify, h.Token)
}

// NewToken returns a fresh random probe token.
func (c *Canary) NewToken() string { return newToken() }

func newToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "rp" + hex.EncodeToString(b[:])
}

// URL is an HTTP canary URL carrying the token.
func (c *Canary) URL(token string) string { return c.httpBase + "/t/" + token }

// TLSURL is an HTTPS canary URL (self-signed certificate) carrying the token.
func (c *Canary) TLSURL(token string) string { return c.httpsBase + "/t/" + token }

// Base is the HTTP listener's base URL.
func (c *Canary) Base() string { return c.httpBase }

// Respond sets what the canary serves for a token.
func (c *Canary) Respond(token string, r Response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.responses[token] = r
}

// Hits returns the hits for a token so far.
func (c *Canary) Hits(token string) []Hit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Hit(nil), c.hits[token]...)
}

// Wait blocks until the token is hit, the timeout passes or ctx ends.
func (c *Canary) Wait(ctx context.Context, token string, timeout time.Duration) (Hit, bool) {
	c.mu.Lock()
	if hs := c.hits[token]; len(hs) > 0 {
		c.mu.Unlock()
		return hs[0], true
	}
	ch := make(chan struct{})
	c.notify[token] = append(c.notify[token], ch)
	c.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ch:
		hs := c.Hits(token)
		return hs[0], true
	case <-t.C:
	case <-ctx.Done():
	}
	return Hit{}, false
}

// Close stops the listeners.
func (c *Canary) Close() error {
	var errs []error
	for _, s := range c.servers {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
