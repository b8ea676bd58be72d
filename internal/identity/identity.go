// Package identity holds the scan's credentials: named identities with
// headers, query keys, cookies or a login flow, their roles and tenants.
package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rampart-scan/rampart/internal/probe"
)

// Roles.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// Anonymous is the name of the identity without credentials.
const Anonymous = "anonymous"

// Login is a login flow whose token becomes a header.
type Login struct {
	Method string
	// URL is absolute or relative to the target.
	URL  string
	JSON any
	Form map[string]string
	// Token is a JSON Pointer into the response body (e.g. /access_token).
	Token string
	// TokenHeader takes the token from a response header instead.
	TokenHeader string
	// TokenCookie takes the token from a response cookie instead.
	TokenCookie string
	// Header is the header template, e.g. "Authorization: Bearer {token}".
	Header string
}

// Identity is one set of credentials with its role and tenants.
type Identity struct {
	IDName  string
	Role    string
	Tenants []string
	Headers http.Header
	Query   url.Values
	Cookies map[string]string
	Login   *Login

	mu          sync.RWMutex
	loginHeader [2]string // name, value from the last login
	loginAt     time.Time
	target      *url.URL
}

// Stale reports whether the login token may have expired: a JWT within 30 s
// of its exp, or any other token older than a minute. The client re-logs in on
// a 401 only then, so an operation that simply refuses this identity does not
// cause a login storm (or swap the token under a check's feet).
func (i *Identity) Stale() bool {
	i.mu.RLock()
	at, v := i.loginAt, i.loginHeader[1]
	i.mu.RUnlock()
	if i.Login == nil || v == "" {
		return false
	}
	if exp, ok := tokenExpiry(v); ok {
		return time.Until(exp) < 30*time.Second
	}
	return time.Since(at) > time.Minute
}

// tokenExpiry reads exp from a JWT (after an optional scheme) without verifying it.
func tokenExpiry(v string) (time.Time, bool) {
	if _, rest, ok := strings.Cut(v, " "); ok {
		v = rest
	}
	parts := strings.Split(strings.TrimSpace(v), ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp float64 `json:"exp"`
	}
	if json.Unmarshal(raw, &c) != nil || c.Exp == 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(c.Exp), 0), true
}

// Name is the identity's name.
func (i *Identity) Name() string { return i.IDName }

// IsAdmin reports whether the identity has the admin role.
func (i *Identity) IsAdmin() bool { return i.Role == RoleAdmin }

// IsAnonymous reports whether the identity carries no credentials.
func (i *Identity) IsAnonymous() bool {
	return len(i.Headers) == 0 && len(i.Query) == 0 && len(i.Cookies) == 0 && i.Login == nil
}

// Apply adds the identity's credentials to a request for the target's origin.
func (i *Identity) Apply(h http.Header, u *url.URL) []string {
	var names []string
	keys := make([]string, 0, len(i.Headers))
	for k := range i.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.Del(k)
		for _, v := range i.Headers[k] {
			h.Add(k, v)
		}
		names = append(names, k)
	}
	i.mu.RLock()
	lh := i.loginHeader
	i.mu.RUnlock()
	if lh[0] != "" {
		h.Set(lh[0], lh[1])
		names = append(names, http.CanonicalHeaderKey(lh[0]))
	}
	if len(i.Cookies) > 0 {
		ck := make([]string, 0, len(i.Cookies))
		for k, v := range i.Cookies {
			ck = append(ck, k+"="+v)
		}
		sort.Strings(ck)
		if old := h.Get("Cookie"); old != "" {
			ck = append([]string{old}, ck...)
		}
		h.Set("Cookie", strings.Join(ck, "; "))
		names = append(names, "Cookie")
	}
	if len(i.Query) > 0 {
		q := u.Query()
		for k, vs := range i.Query {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	return names
}

// Secrets lists the credential values, for redaction.
func (i *Identity) Secrets() []string {
	var out []string
	for _, vs := range i.Headers {
		for _, v := range vs {
			out = append(out, v)
			if _, rest, ok := strings.Cut(v, " "); ok {
				out = append(out, rest)
			}
		}
	}
	for _, vs := range i.Query {
		out = append(out, vs...)
	}
	for _, v := range i.Cookies {
		out = append(out, v)
	}
	i.mu.RLock()
	if i.loginHeader[1] != "" {
		out = append(out, i.loginHeader[1])
		if _, rest, ok := strings.Cut(i.loginHeader[1], " "); ok {
			out = append(out, rest)
		}
	}
	i.mu.RUnlock()
	return out
}

// Token is the bearer-like token the identity currently sends, if any: the
// login token, or the value after the scheme of an Authorization header.
func (i *Identity) Token() string {
	i.mu.RLock()
	lh := i.loginHeader
	i.mu.RUnlock()
	v := lh[1]
	if v == "" {
		v = i.Headers.Get("Authorization")
	}
	if _, rest, ok := strings.Cut(v, " "); ok {
		return strings.TrimSpace(rest)
	}
	return v
}

// Relogin runs the login flow again.
func (i *Identity) Relogin(ctx context.Context, c *probe.Client) (bool, error) {
	if i.Login == nil {
		return false, nil
	}
	return true, i.DoLogin(ctx, c)
}

// LoginURL resolves the login URL against the target.
func (i *Identity) LoginURL(target *url.URL) (*url.URL, error) {
	u, err := url.Parse(i.Login.URL)
	if err != nil {
		return nil, fmt.Errorf("identity %s: login url: %w", i.IDName, err)
	}
	return target.ResolveReference(u), nil
}

// DoLogin runs the login flow and stores the token header.
func (i *Identity) DoLogin(ctx context.Context, c *probe.Client) error {
	l := i.Login
	u, err := i.LoginURL(c.Target())
	if err != nil {
		return err
	}
	method := strings.ToUpper(l.Method)
	if method == "" {
		method = http.MethodPost
	}
	req := &probe.Request{Method: method, URL: u.String(), Header: http.Header{}, NoRetry: true}
	switch {
	case l.JSON != nil:
		b, err := json.Marshal(l.JSON)
		if err != nil {
			return fmt.Errorf("identity %s: login json: %w", i.IDName, err)
		}
		req.Body = b
		req.Header.Set("Content-Type", "application/json")
	case l.Form != nil:
		f := url.Values{}
		for k, v := range l.Form {
			f.Set(k, v)
		}
		req.Body = []byte(f.Encode())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	ex, err := c.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("identity %s: login: %w", i.IDName, err)
	}
	if ex.Status < 200 || ex.Status > 299 {
		return fmt.Errorf("identity %s: login %s %s answered HTTP %d", i.IDName, method, u.Path, ex.Status)
	}
	token, err := extractToken(l, ex)
	if err != nil {
		return fmt.Errorf("identity %s: login: %w", i.IDName, err)
	}
	tmpl := l.Header
	if tmpl == "" {
		if l.TokenCookie != "" {
			tmpl = "Cookie: " + l.TokenCookie + "={token}"
		} else {
			tmpl = "Authorization: Bearer {token}"
		}
	}
	name, value, ok := strings.Cut(tmpl, ":")
	if !ok {
		return fmt.Errorf("identity %s: login header %q is not 'Name: value'", i.IDName, tmpl)
	}
	value = strings.ReplaceAll(strings.TrimSpace(value), "{token}", token)
	i.mu.Lock()
	i.loginHeader = [2]string{strings.TrimSpace(name), value}
	i.loginAt = time.Now()
	i.mu.Unlock()
	c.Redactor().AddSecret(token)
	return nil
}

func extractToken(l *Login, ex *probe.Exchange) (string, error) {
	switch {
	case l.TokenHeader != "":
		v := ex.Header.Get(l.TokenHeader)
		if v == "" {
			return "", fmt.Errorf("no %s header in the login response", l.TokenHeader)
		}
		return v, nil
	case l.TokenCookie != "":
		resp := http.Response{Header: ex.Header}
		for _, c := range resp.Cookies() {
			if c.Name == l.TokenCookie {
				return c.Value, nil
			}
		}
		return "", fmt.Errorf("no %s cookie in the login response", l.TokenCookie)
	}
	ptr := l.Token
	if ptr == "" {
		ptr = "/access_token"
	}
	var body any
	if err := json.Unmarshal(ex.Body, &body); err != nil {
		return "", fmt.Errorf("login response is not JSON")
	}
	v, err := pointer(body, ptr)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fmt.Errorf("login response %s is not a non-empty string", ptr)
	}
	return s, nil
}

// pointer resolves a JSON Pointer (RFC 6901).
func pointer(doc any, ptr string) (any, error) {
	if ptr == "" {
		return doc, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("token %q is not a JSON Pointer (it starts with /)", ptr)
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[tok]
			if !ok {
				return nil, fmt.Errorf("login response has no %s", ptr)
			}
			cur = v
		case []any:
			var n int
			if _, err := fmt.Sscanf(tok, "%d", &n); err != nil || n < 0 || n >= len(x) {
				return nil, fmt.Errorf("login response has no %s", ptr)
			}
			cur = x[n]
		default:
			return nil, fmt.Errorf("login response has no %s", ptr)
		}
	}
	return cur, nil
}

var _ probe.Credentials = (*Identity)(nil)
