package lab

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The SSRF and unsafe consumption routes. Every fetch obeys the network rule:
// only literal loopback addresses are dialled, name resolution never happens,
// and anything else is answered with canned content.

func ssrfModule() module {
	return module{
		name:   "ssrf",
		routes: ssrfRoutes,
		paths: `  /preview:
    get:
      tags: [tools]
      operationId: linkCard
      summary: Render a link card for a URL
      security: [{ApiKey: []}]
      parameters:
        - {name: url, in: query, required: true, schema: {type: string, format: uri, example: "https://example.com/"}}
      responses:
        "200":
          description: An HTML card
          content:
            text/html:
              schema: {type: string}
  /import:
    get:
      tags: [tools]
      operationId: importDocument
      summary: Import a JSON document from a URL
      security: [{ApiKey: []}]
      parameters:
        - {name: source, in: query, required: true, schema: {type: string, example: "https://example.com/doc.json"}}
      responses:
        "200":
          description: The imported document
          content:
            application/json:
              schema: {type: object, properties: {title: {type: string}, imported: {type: boolean}}}
  /avatar:
    get:
      tags: [tools]
      operationId: fetchAvatar
      summary: Fetch an avatar picture from a URL
      security: [{ApiKey: []}]
      parameters:
        - {name: image, in: query, required: true, schema: {type: string, example: "https://example.com/a.png"}}
      responses:
        "200": {description: The picture's metadata}
  /goto:
    get:
      tags: [tools]
      operationId: go
      summary: Continue to the next page after login
      security: []
      parameters:
        - {name: next, in: query, required: true, schema: {type: string, example: /notes}}
      responses:
        "302": {description: Redirect}
  /webhooks:
    post:
      tags: [tools]
      operationId: registerWebhook
      summary: Register a webhook for the tenant's events
      security: [{ApiKey: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [webhook_url]
              properties:
                webhook_url: {type: string, format: uri, example: "https://hooks.example.com/lab"}
      responses:
        "201": {description: Registered}
`,
		manifest: []Flaw{
			{Rule: "ssrf.url-parameter", Method: "GET", Path: "/preview", Note: "url is fetched server-side with no restriction"},
			{Rule: "ssrf.filter-bypass", Method: "GET", Path: "/avatar", Note: "127.0.0.1 and localhost are refused as strings, 127.1 and 2130706433 are not"},
			{Rule: "ssrf.open-redirect", Method: "GET", Path: "/goto", Note: "next may be any absolute URL"},
			{Rule: "consumption.tls-not-verified", Method: "GET", Path: "/preview", Note: "https is fetched without certificate verification"},
			{Rule: "consumption.untrusted-content", Method: "GET", Path: "/preview", Note: "the fetched page's title is rendered unescaped"},
			{Rule: "consumption.untrusted-content", Method: "GET", Path: "/import", Note: "the fetched document's fields are merged into the answer"},
			{Rule: "consumption.unvalidated-callback", Method: "POST", Path: "/webhooks", Active: true, Note: "the webhook is pinged at once, unverified"},
		},
	}
}

// looseIP reads literal IPs and the inet_aton spellings (127.1, 2130706433,
// 0x7f000001, 0177.0.0.1); it never resolves names.
func looseIP(host string) net.IP {
	h := strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if h == "localhost" {
		return net.IPv4(127, 0, 0, 1)
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip
	}
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return nil
	}
	var n uint64
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 0, 32)
		if err != nil {
			return nil
		}
		if i < len(parts)-1 {
			if v > 255 {
				return nil
			}
			n |= v << (24 - 8*i)
		} else {
			n |= v
		}
	}
	return net.IPv4(byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

var cannedMetadata = "ami-id\ninstance-id\ninstance-type\nlocal-ipv4\niam/security-credentials/\n"

// fetch gets a URL for the vulnerable twin: loopback is dialled (TLS unverified),
// metadata and file:// get canned content, everything else a canned page.
func fetch(ctx context.Context, raw string) (string, string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "", "", fmt.Errorf("not an absolute URL")
	}
	switch u.Scheme {
	case "file":
		if u.Path == "/etc/passwd" {
			return "text/plain", files["/etc/passwd"], nil
		}
		return "", "", fmt.Errorf("no such file")
	case "http", "https":
	default:
		return "", "", fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
	ip := looseIP(u.Hostname())
	switch {
	case ip != nil && ip.IsLoopback():
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		u.Host = net.JoinHostPort(ip.String(), port)
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		req.Header.Set("User-Agent", "LabFetcher/1.0")
		client := &http.Client{Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // the planted flaw
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			return "", "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return resp.Header.Get("Content-Type"), string(b), nil
	case ip != nil && ip.Equal(net.IPv4(169, 254, 169, 254)):
		return "text/plain", cannedMetadata, nil
	}
	return "text/html", "<html><head><title>Example Domain</title></head><body>canned</body></html>", nil
}

var titleRe = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

func ssrfRoutes(l *Lab, mux *http.ServeMux) {
	guard := func(w http.ResponseWriter, r *http.Request) bool {
		if _, ok := keyAuth(r); !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return false
		}
		return true
	}
	refuse := func(w http.ResponseWriter) {
		l.fail(w, http.StatusBadRequest, "only allow-listed https hosts can be fetched")
	}
	mux.HandleFunc("GET /preview", func(w http.ResponseWriter, r *http.Request) {
		if !guard(w, r) {
			return
		}
		if !l.vulnerable() {
			refuse(w) // the hardened twin fetches only its allow-list, which holds no host here
			return
		}
		_, body, err := fetch(r.Context(), r.URL.Query().Get("url"))
		if err != nil {
			l.fail(w, http.StatusBadGateway, "could not fetch: "+err.Error())
			return
		}
		title := ""
		if m := titleRe.FindStringSubmatch(body); m != nil {
			title = m[1]
		}
		l.headers(w, true)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<div class=card><h3>%s</h3><p>%s</p></div>\n", title, html.EscapeString(body[:min(len(body), 120)]))
	})
	mux.HandleFunc("GET /import", func(w http.ResponseWriter, r *http.Request) {
		if !guard(w, r) {
			return
		}
		if !l.vulnerable() {
			refuse(w)
			return
		}
		_, body, err := fetch(r.Context(), r.URL.Query().Get("source"))
		if err != nil {
			l.fail(w, http.StatusBadGateway, "could not fetch: "+err.Error())
			return
		}
		out := map[string]any{}
		_ = json.Unmarshal([]byte(body), &out) // every field of the document is kept
		out["imported"] = true
		l.writeJSON(w, http.StatusOK, true, out)
	})
	mux.HandleFunc("GET /avatar", func(w http.ResponseWriter, r *http.Request) {
		if !guard(w, r) {
			return
		}
		raw := r.URL.Query().Get("image")
		if !l.vulnerable() {
			refuse(w)
			return
		}
		lower := strings.ToLower(raw)
		if strings.Contains(lower, "127.0.0.1") || strings.Contains(lower, "localhost/") || strings.Contains(lower, "localhost:") || strings.Contains(lower, "169.254.169.254") {
			l.fail(w, http.StatusBadRequest, "internal addresses are not allowed") // a string blocklist
			return
		}
		ct, body, err := fetch(r.Context(), raw)
		if err != nil {
			l.fail(w, http.StatusBadGateway, "could not fetch: "+err.Error())
			return
		}
		l.writeJSON(w, http.StatusOK, true, map[string]any{"content_type": ct, "bytes": len(body)})
	})
	mux.HandleFunc("GET /goto", func(w http.ResponseWriter, r *http.Request) {
		next := r.URL.Query().Get("next")
		if !l.vulnerable() && (!strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//")) {
			next = "/"
		}
		http.Redirect(w, r, next, http.StatusFound)
	})
	mux.HandleFunc("POST /webhooks", func(w http.ResponseWriter, r *http.Request) {
		if !guard(w, r) {
			return
		}
		var body struct {
			URL string `json:"webhook_url"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&body); err != nil || body.URL == "" {
			l.fail(w, http.StatusBadRequest, "webhook_url is required")
			return
		}
		if l.vulnerable() {
			go fetch(context.Background(), body.URL) //nolint:errcheck // the ping goes out at once, unverified
		} else if !strings.HasPrefix(body.URL, "https://") {
			l.fail(w, http.StatusBadRequest, "webhook_url must be https; it is verified with a signed challenge before use")
			return
		}
		l.writeJSON(w, http.StatusCreated, true, map[string]string{"status": "registered"})
	})
}
