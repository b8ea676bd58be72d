package probe

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// credentialHeader matches header names that carry credentials.
var credentialHeader = regexp.MustCompile(`(?i)^(authorization|proxy-authorization|cookie|set-cookie)$|api[-_]?key|token|secret|session|auth|password|passwd`)

// IsCredentialHeader reports whether a header name looks like it carries a credential.
func IsCredentialHeader(name string) bool {
	if strings.EqualFold(name, "WWW-Authenticate") {
		return false
	}
	return credentialHeader.MatchString(name)
}

// sensitiveKey matches JSON keys whose values are redacted (CONTRACTS §8).
var sensitiveKey = regexp.MustCompile(`(?i)pass|secret|token|key|hash`)

// Redactor removes credentials and secrets from evidence.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// AddSecret registers a value (a key, a password, a token) to blank out wherever it appears.
func (r *Redactor) AddSecret(v string) {
	if len(v) < 4 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.secrets {
		if s == v {
			return
		}
	}
	r.secrets = append(r.secrets, v)
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// Mask keeps a short prefix and hides the rest.
func Mask(v string) string {
	n := 4
	if len(v) <= 8 {
		n = 1
	}
	if len(v) <= n {
		return "[REDACTED]"
	}
	return v[:n] + "…[REDACTED]"
}

// Header redacts credential header values, except those named in show.
func (r *Redactor) Header(name, value string, show map[string]bool) string {
	if show[http.CanonicalHeaderKey(name)] {
		return value
	}
	if IsCredentialHeader(name) {
		if scheme, rest, ok := strings.Cut(value, " "); ok && len(scheme) < 16 && rest != "" {
			return scheme + " " + Mask(rest)
		}
		return Mask(value)
	}
	return r.Text(value)
}

// Text blanks registered secret values.
func (r *Redactor) Text(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Mask(sec))
		}
	}
	return s
}

// Body redacts a body: JSON values under sensitive keys, then registered secrets.
func (r *Redactor) Body(body []byte, contentType string) string {
	s := string(body)
	if strings.Contains(contentType, "json") || looksJSON(body) {
		var v any
		if json.Unmarshal(body, &v) == nil {
			if redactJSON(v, 0) {
				if out, err := json.Marshal(v); err == nil {
					s = string(out)
				}
			}
		}
	}
	return r.Text(s)
}

func looksJSON(b []byte) bool {
	t := strings.TrimSpace(string(b[:min(len(b), 64)]))
	return strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")
}

// redactJSON masks string values under sensitive keys; it reports whether it changed anything.
func redactJSON(v any, depth int) bool {
	if depth > 64 {
		return false
	}
	changed := false
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && sensitiveKey.MatchString(k) && s != "" {
				x[k] = Mask(s)
				changed = true
				continue
			}
			if redactJSON(val, depth+1) {
				changed = true
			}
		}
	case []any:
		for _, val := range x {
			if redactJSON(val, depth+1) {
				changed = true
			}
		}
	}
	return changed
}
