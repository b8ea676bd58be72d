package probe

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// FormatRequest renders the request as HTTP/1.1 text, redacted and capped.
func (r *Redactor) FormatRequest(ex *Exchange) string {
	var b strings.Builder
	u, _ := url.Parse(ex.URL)
	target := ex.URL
	if u != nil {
		target = u.RequestURI()
	}
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", ex.Method, r.Text(target))
	if u != nil {
		fmt.Fprintf(&b, "Host: %s\r\n", u.Host)
	}
	writeHeaders(&b, r, ex.RequestHead, shownSet(ex.ShowHeaders), map[string]bool{"User-Agent": true, "X-Rampart-Scan-Id": true, "Host": true})
	b.WriteString("\r\n")
	if len(ex.RequestBody) > 0 {
		b.WriteString(r.Body(ex.RequestBody, ex.RequestHead.Get("Content-Type")))
	}
	return capText(b.String(), ExcerptBytes)
}

// FormatResponse renders the response as HTTP/1.1 text, redacted and capped.
func (r *Redactor) FormatResponse(ex *Exchange) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", ex.Status, http.StatusText(ex.Status))
	writeHeaders(&b, r, ex.Header, nil, map[string]bool{"Date": true})
	b.WriteString("\r\n")
	b.WriteString(r.Body(ex.Body, ex.Header.Get("Content-Type")))
	if ex.Truncated {
		b.WriteString("\n[response truncated by rampart]")
	}
	return capText(b.String(), ExcerptBytes)
}

func shownSet(names []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[http.CanonicalHeaderKey(n)] = true
	}
	return m
}

func writeHeaders(b *strings.Builder, r *Redactor, h http.Header, show, skip map[string]bool) {
	keys := make([]string, 0, len(h))
	for k := range h {
		if !skip[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s: %s\r\n", k, r.Header(k, v, show))
		}
	}
}

// capText cuts s at n bytes on a rune boundary.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "\n[excerpt truncated]"
}

var envUnsafe = regexp.MustCompile(`[^A-Z0-9]+`)

// EnvVar names the environment variable that holds identity's credential header in curl lines.
func EnvVar(identity, header string, first bool) string {
	v := "RAMPART_ID_" + strings.Trim(envUnsafe.ReplaceAllString(strings.ToUpper(identity), "_"), "_")
	if !first {
		v += "_" + strings.Trim(envUnsafe.ReplaceAllString(strings.ToUpper(header), "_"), "_")
	}
	return v
}

// Curl renders a curl line that reproduces the exchange. Identity credentials
// become environment variables; other credential headers are redacted unless shown.
func (r *Redactor) Curl(ex *Exchange) string {
	var parts []string
	parts = append(parts, "curl", "-sS", "-i")
	if ex.Method != http.MethodGet {
		if ex.Method == http.MethodHead {
			parts = append(parts, "-I")
		} else {
			parts = append(parts, "-X", ex.Method)
		}
	}
	cred := map[string]bool{}
	show := shownSet(ex.ShowHeaders)
	first := true
	for _, h := range ex.CredHeaders {
		if show[http.CanonicalHeaderKey(h)] {
			continue // shown literally below (a forged or made-up value)
		}
		cred[http.CanonicalHeaderKey(h)] = true
		parts = append(parts, "-H", fmt.Sprintf("\"%s: $%s\"", h, EnvVar(ex.Identity, h, first)))
		first = false
	}
	keys := make([]string, 0, len(ex.RequestHead))
	for k := range ex.RequestHead {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if cred[k] || k == "User-Agent" || k == "X-Rampart-Scan-Id" || k == "Accept-Encoding" || k == "Content-Length" {
			continue
		}
		for _, v := range ex.RequestHead[k] {
			parts = append(parts, "-H", shellQuote(k+": "+r.Header(k, v, show)))
		}
	}
	if len(ex.RequestBody) > 0 {
		parts = append(parts, "--data-binary", shellQuote(r.Body(ex.RequestBody, ex.RequestHead.Get("Content-Type"))))
	}
	parts = append(parts, shellQuote(r.Text(ex.URL)))
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
