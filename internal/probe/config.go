// Package probe is the scanner's HTTP client, the only way checks reach the
// network. A request passes a chain of small round-trippers: method guard →
// scope guard → retry → budget → per-host rate limit and in-flight cap →
// recorder (capped body read, evidence, HAR, observers) → http.Transport.
// Retry sits outside the budget and limiter so every attempt is counted and paced.
package probe

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// Defaults from CONTRACTS §1.
const (
	DefaultRate           = 50
	DefaultConcurrency    = 8
	DefaultMaxRequests    = 5000
	DefaultConnectTimeout = 5 * time.Second
	DefaultTimeout        = 15 * time.Second
	DefaultMaxBody        = 4 << 20
	DefaultMaxRedirects   = 5
	DefaultMaxRetryAfter  = 30 * time.Second
	DefaultBurst          = 40
	ExcerptBytes          = 4 << 10
)

// Config configures a Client. Zero values take the defaults above where noted.
type Config struct {
	// Target is the scan's origin: the only place credentials are sent.
	Target *url.URL
	// AllowOrigins are further origins requests may go to, never with credentials.
	AllowOrigins []*url.URL
	// Rate is requests per second per host; 0 means unlimited.
	Rate float64
	// Concurrency caps in-flight requests per host (default 8).
	Concurrency int
	// MaxRequests is the scan's request budget; 0 means unlimited.
	MaxRequests int
	// Burst caps the size of one burst (default 40).
	Burst          int
	ConnectTimeout time.Duration
	Timeout        time.Duration
	MaxBody        int64
	MaxRedirects   int
	// MaxRetryAfter is the longest Retry-After honoured (default 30s).
	MaxRetryAfter time.Duration
	// Retries is how often a 429/503 on an idempotent request is retried (default 2; -1 for none).
	Retries int

	Proxy          *url.URL
	CACertFile     string
	Insecure       bool
	ClientCertFile string
	ClientKeyFile  string

	UserAgent string
	ScanID    string
	// ExtraHeaders are non-credential headers every request carries (--header).
	ExtraHeaders http.Header

	// Policy enforces CONTRACTS §7; nil allows only GET, HEAD, OPTIONS.
	Policy *Policy
	// Transport replaces the network transport (tests).
	Transport http.RoundTripper
	Logger    *slog.Logger
	// Sleep waits for retries; tests replace it.
	Sleep func(ctxDone <-chan struct{}, d time.Duration) bool
}

func (c *Config) withDefaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Burst <= 0 {
		c.Burst = DefaultBurst
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.MaxRedirects <= 0 {
		c.MaxRedirects = DefaultMaxRedirects
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if c.Retries == 0 {
		c.Retries = 2
	}
	if c.Retries < 0 {
		c.Retries = 0
	}
	if c.UserAgent == "" {
		c.UserAgent = "rampart"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	if c.Policy == nil {
		c.Policy = &Policy{}
	}
}

func sleep(done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

// NewTransport builds the network transport from the TLS, proxy and timeout settings.
func NewTransport(c Config) (*http.Transport, error) {
	c.withDefaults()
	tlsConf := &tls.Config{InsecureSkipVerify: c.Insecure} //nolint:gosec // --insecure is the user's explicit choice
	if c.CACertFile != "" {
		pem, err := os.ReadFile(c.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("read --ca-cert: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-cert %s: no PEM certificates found", c.CACertFile)
		}
		tlsConf.RootCAs = pool
	}
	if c.ClientCertFile != "" || c.ClientKeyFile != "" {
		if c.ClientCertFile == "" || c.ClientKeyFile == "" {
			return nil, fmt.Errorf("--client-cert and --client-key go together")
		}
		cert, err := tls.LoadX509KeyPair(c.ClientCertFile, c.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		tlsConf.Certificates = []tls.Certificate{cert}
	}
	proxy := http.ProxyFromEnvironment
	if c.Proxy != nil {
		proxy = http.ProxyURL(c.Proxy)
	}
	dialer := &net.Dialer{Timeout: c.ConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 proxy,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   c.ConnectTimeout,
		ResponseHeaderTimeout: c.Timeout,
		MaxIdleConnsPerHost:   c.Concurrency,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}, nil
}

// rootsFor is the system pool plus --ca-cert, or nil for the system pool alone.
func rootsFor(c Config) *x509.CertPool {
	if c.CACertFile == "" {
		return nil
	}
	pem, err := os.ReadFile(c.CACertFile)
	if err != nil {
		return nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pool.AppendCertsFromPEM(pem)
	return pool
}
