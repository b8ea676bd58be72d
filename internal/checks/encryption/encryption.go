// Package encryption is the transport security family: plain HTTP, HSTS, old
// TLS versions, weak cipher suites, certificate problems, cookie flags and
// mixed content. TLS properties are read from handshakes Rampart makes itself.
package encryption

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/probe"
)

// Rule IDs of the encryption family.
const (
	RulePlainHTTP    = "tls.plain-http"
	RuleHSTS         = "tls.hsts-missing"
	RuleOldProtocol  = "tls.old-protocol"
	RuleWeakCipher   = "tls.weak-cipher"
	RuleCertificate  = "tls.certificate"
	RuleCookieFlags  = "tls.cookie-flags"
	RuleMixedContent = "tls.mixed-content"
)

var rules = []check.Rule{
	{ID: RulePlainHTTP, Title: "API served over plain HTTP", Severity: check.High,
		SeverityRule: "high; info on a loopback target (a local test deployment)",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-319"},
		Remediation: "Serve the API over HTTPS only, and redirect (or refuse) plain HTTP."},
	{ID: RuleHSTS, Title: "HSTS missing or short", Severity: check.Low,
		SeverityRule: "low: HTTPS answers without Strict-Transport-Security, or max-age below 15552000",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-319", "CWE-523"},
		Remediation: "Send Strict-Transport-Security: max-age=31536000; includeSubDomains on HTTPS answers.", Shared: true},
	{ID: RuleOldProtocol, Title: "TLS 1.0 or 1.1 accepted", Severity: check.Medium,
		SeverityRule: "medium",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-326", "CWE-327"},
		Remediation: "Accept TLS 1.2 and 1.3 only."},
	{ID: RuleWeakCipher, Title: "Weak TLS cipher suite accepted", Severity: check.Medium,
		SeverityRule: "medium for 3DES/RC4 and other insecure suites",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-327"},
		Remediation: "Offer only AEAD suites with forward secrecy (ECDHE with AES-GCM or ChaCha20-Poly1305)."},
	{ID: RuleCertificate, Title: "Certificate problem", Severity: check.High,
		SeverityRule: "high when expired, for another host or self-signed (unless --ca-cert trusts it); low when it expires within 30 days",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-295", "CWE-298"},
		Remediation: "Serve a certificate from a trusted CA for this host name and renew it automatically."},
	{ID: RuleCookieFlags, Title: "Session cookie without protective flags", Severity: check.Low,
		SeverityRule: "low; medium when a session cookie lacks HttpOnly and Secure on HTTPS",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-614", "CWE-1004", "CWE-1275"},
		Remediation: "Set Secure, HttpOnly and SameSite=Lax (or Strict) on session cookies.", Shared: true},
	{ID: RuleMixedContent, Title: "HTTP resources referenced from HTTPS", Severity: check.Low,
		SeverityRule: "low",
		OWASP:        []string{"API8:2023"}, CWE: []string{"CWE-311"},
		Remediation: "Reference resources over https only."},
}

// Family is the encryption family.
type Family struct {
	mu   sync.Mutex
	seen map[string]bool
	// Dial opens TCP connections for handshakes; tests replace it.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Roots and Now verify certificates; nil means the system roots and time.Now.
	Now func() time.Time
}

// New returns a fresh family.
func New() *Family { return &Family{seen: map[string]bool{}} }

// Meta describes the family.
func (f *Family) Meta() check.Family {
	return check.Family{ID: "encryption", Category: check.Encryption, Rules: rules}
}

func (f *Family) once(k string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen[k] {
		return false
	}
	f.seen[k] = true
	return true
}

// Run checks the transport of the target's origin.
func (f *Family) Run(ctx context.Context, s *check.Scan) error {
	t := s.Client.Target()
	if strings.EqualFold(t.Scheme, "http") {
		if s.Enabled(RulePlainHTTP) {
			sev, note := check.High, "the API is served over plain HTTP: credentials and data cross the network in clear text"
			if loopback(t.Hostname()) {
				sev, note = check.Info, "the API is served over plain HTTP on a loopback address (a local deployment; high elsewhere)"
			}
			s.Report(check.Finding{Rule: RulePlainHTTP, Severity: sev, Confidence: check.Confirmed, Method: "*", Path: "*",
				Detail: note + ".", Evidence: []check.Evidence{{Kind: check.EvidenceNote, Note: "target " + t.String()}}})
		}
		return nil
	}
	if err := f.handshakes(ctx, s, t); err != nil {
		return err
	}
	// Read a few operations so that Observe sees this family's own answers too.
	var id probe.Credentials
	if u := s.Identities.Users(); len(u) > 0 {
		id = u[0]
	}
	n := 0
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet || n >= 10 {
			continue
		}
		n++
		req := s.Plan.Request(o, nil)
		req.Identity = id
		if _, err := s.Client.Do(ctx, req); err != nil && (errors.Is(err, probe.ErrBudgetExhausted) || ctx.Err() != nil) {
			return err
		}
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (f *Family) dial(ctx context.Context, addr string, conf *tls.Config) (*tls.ConnectionState, error) {
	d := f.Dial
	if d == nil {
		d = (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	}
	ctx, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	raw, err := d(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	c := tls.Client(raw, conf)
	if err := c.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	st := c.ConnectionState()
	return &st, nil
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// handshakes inspects the certificate, then tries old protocols and weak suites.
func (f *Family) handshakes(ctx context.Context, s *check.Scan, t *url.URL) error {
	addr := hostPort(t)
	host := t.Hostname()
	st, err := f.dial(ctx, addr, &tls.Config{InsecureSkipVerify: true, ServerName: host}) //nolint:gosec // inspection only
	if err != nil {
		return &check.Skip{Reason: "TLS handshake failed: " + err.Error()}
	}
	if s.Enabled(RuleCertificate) {
		f.certificate(s, st, host)
	}
	if s.Enabled(RuleOldProtocol) {
		for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
			if _, err := f.dial(ctx, addr, &tls.Config{InsecureSkipVerify: true, ServerName: host, MinVersion: v, MaxVersion: v}); err == nil { //nolint:gosec
				name := map[uint16]string{tls.VersionTLS10: "TLS 1.0", tls.VersionTLS11: "TLS 1.1"}[v]
				s.Report(check.Finding{Rule: RuleOldProtocol, Severity: check.Medium, Confidence: check.Confirmed, Method: "*", Path: "*",
					Detail: name + " is accepted.", Evidence: []check.Evidence{{Kind: check.EvidenceNote, Note: "a " + name + "-only handshake with " + addr + " succeeded"}}})
				break
			}
		}
	}
	if s.Enabled(RuleWeakCipher) {
		var ids []uint16
		for _, cs := range tls.InsecureCipherSuites() {
			ids = append(ids, cs.ID)
		}
		if st2, err := f.dial(ctx, addr, &tls.Config{InsecureSkipVerify: true, ServerName: host, MaxVersion: tls.VersionTLS12, CipherSuites: ids}); err == nil { //nolint:gosec
			s.Report(check.Finding{Rule: RuleWeakCipher, Severity: check.Medium, Confidence: check.Confirmed, Method: "*", Path: "*",
				Detail:   "The server accepts the insecure suite " + tls.CipherSuiteName(st2.CipherSuite) + ".",
				Evidence: []check.Evidence{{Kind: check.EvidenceNote, Note: "handshake offering only insecure suites succeeded with " + tls.CipherSuiteName(st2.CipherSuite)}}})
		}
	}
	return nil
}

func (f *Family) certificate(s *check.Scan, st *tls.ConnectionState, host string) {
	if len(st.PeerCertificates) == 0 {
		return
	}
	leaf := st.PeerCertificates[0]
	now := time.Now()
	if f.Now != nil {
		now = f.Now()
	}
	report := func(sev check.Severity, detail string) {
		s.Report(check.Finding{Rule: RuleCertificate, Severity: sev, Confidence: check.Confirmed, Method: "*", Path: "*",
			Detail: detail, Evidence: []check.Evidence{{Kind: check.EvidenceNote, Note: fmt.Sprintf("subject %q, issuer %q, valid %s to %s, names %v",
				leaf.Subject.CommonName, leaf.Issuer.CommonName, leaf.NotBefore.Format(time.DateOnly), leaf.NotAfter.Format(time.DateOnly), leaf.DNSNames)}}})
	}
	switch {
	case now.After(leaf.NotAfter):
		report(check.High, fmt.Sprintf("The certificate expired on %s.", leaf.NotAfter.Format(time.DateOnly)))
		return
	case leaf.VerifyHostname(host) != nil:
		report(check.High, fmt.Sprintf("The certificate does not cover %s (it names %v).", host, append(leaf.DNSNames, leaf.Subject.CommonName)))
		return
	}
	roots := s.Client.Roots()
	inter := x509.NewCertPool()
	for _, c := range st.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host, CurrentTime: now}); err != nil {
		var ua x509.UnknownAuthorityError
		what := "is not trusted"
		if errors.As(err, &ua) {
			what = "is self-signed or from an unknown authority"
		}
		report(check.High, "The certificate "+what+" (give --ca-cert if you trust its issuer).")
		return
	}
	if left := leaf.NotAfter.Sub(now); left < 30*24*time.Hour {
		report(check.Low, fmt.Sprintf("The certificate expires in %d days (%s).", int(left.Hours()/24), leaf.NotAfter.Format(time.DateOnly)))
	}
}

var (
	sessionCookie = regexp.MustCompile(`(?i)(sess|sid|token|auth|jwt|login|remember|connect\.sid|phpsessid|jsessionid|aspxauth)`)
	httpResource  = regexp.MustCompile(`(?i)(src|href|action)\s*=\s*["']http://[^"']+`)
)

// Observe checks HTTPS answers (HSTS, mixed content) and every Set-Cookie.
func (f *Family) Observe(s *check.Scan, ex *probe.Exchange) {
	u, err := url.Parse(ex.URL)
	if err != nil || !s.Client.SameOrigin(u) {
		return
	}
	https := strings.EqualFold(u.Scheme, "https")
	rel := s.RelPath(ex)
	path := check.TemplatePath(rel)
	if o := s.Plan.Find(ex.Method, rel); o != nil {
		path = o.Path
	} else if s.IsCatchAll(ex) {
		return
	}
	if https && check.OK(ex.Status) && s.Enabled(RuleHSTS) {
		if v := ex.Header.Get("Strict-Transport-Security"); hstsShort(v) && f.once("hsts "+ex.Method+" "+path) {
			detail := "HTTPS answers carry no Strict-Transport-Security header."
			if v != "" {
				detail = "Strict-Transport-Security max-age is below 15552000 (180 days): " + v
			}
			s.Report(check.Finding{Rule: RuleHSTS, Severity: check.Low, Confidence: check.Confirmed, Method: ex.Method, Path: path, Identity: ex.Identity,
				Detail: detail, Evidence: []check.Evidence{s.Evidence(ex, "HTTPS answer")}, Curl: s.Curl(ex)})
		}
	}
	if https && check.OK(ex.Status) && s.Enabled(RuleMixedContent) && strings.Contains(strings.ToLower(ex.Header.Get("Content-Type")), "html") {
		if m := httpResource.Find(ex.Body); m != nil && f.once("mixed "+path) {
			s.Report(check.Finding{Rule: RuleMixedContent, Severity: check.Low, Confidence: check.Confirmed, Method: ex.Method, Path: path, Identity: ex.Identity,
				Detail: fmt.Sprintf("The HTTPS page references %s.", string(m)), Evidence: []check.Evidence{s.Evidence(ex, "mixed content")}, Curl: s.Curl(ex)})
		}
	}
	if s.Enabled(RuleCookieFlags) {
		resp := http.Response{Header: ex.Header}
		for _, c := range resp.Cookies() {
			if !sessionCookie.MatchString(c.Name) {
				continue
			}
			var missing []string
			if https && !c.Secure {
				missing = append(missing, "Secure")
			}
			if !c.HttpOnly {
				missing = append(missing, "HttpOnly")
			}
			if c.SameSite == http.SameSiteDefaultMode {
				missing = append(missing, "SameSite")
			}
			if len(missing) == 0 || !f.once("cookie "+c.Name+" "+ex.Method+" "+path) {
				continue
			}
			sev := check.Low
			if https && !c.Secure && !c.HttpOnly {
				sev = check.Medium
			}
			s.Report(check.Finding{Rule: RuleCookieFlags, Severity: sev, Confidence: check.Confirmed, Method: ex.Method, Path: path,
				Parameter: &check.Param{In: "cookie", Name: c.Name}, Identity: ex.Identity,
				Detail:   fmt.Sprintf("The session cookie %s is set without %s.", c.Name, strings.Join(missing, ", ")),
				Evidence: []check.Evidence{s.Evidence(ex, "Set-Cookie")}, Curl: s.Curl(ex)})
		}
	}
}

func hstsShort(v string) bool {
	if v == "" {
		return true
	}
	for _, part := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(k, "max-age") {
			n, err := strconv.Atoi(strings.Trim(val, `"`))
			return err != nil || n < 15552000
		}
	}
	return true
}

var (
	_ check.Check    = (*Family)(nil)
	_ check.Observer = (*Family)(nil)
)
