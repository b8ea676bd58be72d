package exposure

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

// RunWrites (phase 3, --active): malformed bodies to JSON writes, and login answers for a known and an unknown user.
func (f *Family) RunWrites(ctx context.Context, s *check.Scan) error {
	if s.Enabled(RuleStackTrace) {
		if err := f.provoke(ctx, s); err != nil {
			return err
		}
	}
	if s.Enabled(RuleUserEnumeration) {
		if err := f.enumerate(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

var malformed = []struct{ body, what string }{
	{`{"rampart": `, "truncated JSON"},
	{``, "an empty body"},
	{`null`, "a JSON null"},
	{`[]`, "a JSON array where an object is expected"},
}

// provoke sends malformed bodies to each JSON write; the trace (not the status) is the evidence.
func (f *Family) provoke(ctx context.Context, s *check.Scan) error {
	for _, o := range s.Plan.Operations {
		if o.Spec == nil || o.Spec.RequestBody == nil || spec.JSONMediaType(o.Spec.RequestBody.Content) == nil {
			continue
		}
		if o.Method != http.MethodPost && o.Method != http.MethodPut && o.Method != http.MethodPatch {
			continue
		}
		if o.Class&(plan.Login|plan.OTPCheck|plan.PasswordReset|plan.LLMSpec|plan.LLMPath) != 0 {
			continue
		}
		id, ok, err := s.Writer(ctx, o)
		if err != nil {
			return err
		}
		if ok == nil {
			continue // no identity gets the normal request through: errors would be about credentials
		}
		for _, m := range malformed {
			req := s.Plan.Request(o, id)
			req.Body = []byte(m.body)
			req.Header.Set("Content-Type", "application/json")
			req.NoRetry = true
			ex, err := s.Client.Do(ctx, req)
			if err != nil {
				if fatal(err) {
					return err
				}
				break
			}
			path, _ := templ(s, ex)
			before := f.found(RuleStackTrace, ex.Method, path)
			f.stack(s, ex, path, o, ex.Body[:min(len(ex.Body), 512<<10)])
			if !before && f.found(RuleStackTrace, ex.Method, path) {
				break
			}
		}
	}
	return nil
}

func (f *Family) found(rule, method, path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[rule+" "+method+" "+path]
}

var userField = regexp.MustCompile(`(?i)^(email|e-mail|username|user_name|user|login|name|phone)$`)
var passField = regexp.MustCompile(`(?i)pass`)

// enumerate logs in as a configured user with a wrong password and as an unknown user.
func (f *Family) enumerate(ctx context.Context, s *check.Scan) error {
	for _, id := range s.Identities.Authenticated() {
		if id.Login == nil {
			continue
		}
		body, ok := id.Login.JSON.(map[string]any)
		if !ok {
			continue
		}
		var userKey, passKey string
		for k, v := range body {
			if _, isStr := v.(string); !isStr {
				continue
			}
			switch {
			case userField.MatchString(k):
				userKey = k
			case passField.MatchString(k):
				passKey = k
			}
		}
		if userKey == "" || passKey == "" {
			continue
		}
		loginURL, err := id.LoginURL(s.Client.Target())
		if err != nil {
			continue
		}
		known := body[userKey].(string)
		unknown := "rampart-nobody-" + randHex(4)
		if at := strings.LastIndex(known, "@"); at > 0 {
			unknown += known[at:]
		}
		wrong := "Rampart-wrong-" + randHex(6)
		send := func(user string) (*probe.Exchange, error) {
			b := map[string]any{}
			for k, v := range body {
				b[k] = v
			}
			b[userKey], b[passKey] = user, wrong
			data, _ := json.Marshal(b)
			method := strings.ToUpper(id.Login.Method)
			if method == "" {
				method = http.MethodPost
			}
			ex, err := s.Client.Do(ctx, &probe.Request{Method: method, URL: loginURL.String(), Body: data, NoRetry: true,
				Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}})
			if err != nil && fatal(err) {
				return nil, err
			}
			return ex, nil
		}
		exKnown, err := send(known)
		if err != nil {
			return err
		}
		exUnknown, err := send(unknown)
		if err != nil {
			return err
		}
		if exKnown == nil || exUnknown == nil || check.Inconclusive(exKnown.Status) || check.Inconclusive(exUnknown.Status) {
			continue
		}
		if check.OK(exKnown.Status) || check.OK(exUnknown.Status) {
			continue // a wrong password was accepted: not this rule's question
		}
		a := strings.ReplaceAll(string(exKnown.Body), known, "USER")
		b := strings.ReplaceAll(string(exUnknown.Body), unknown, "USER")
		if exKnown.Status == exUnknown.Status && normalise(a) == normalise(b) {
			continue
		}
		path, o := templ(s, exKnown)
		s.Report(check.Finding{Rule: RuleUserEnumeration, Severity: check.Medium, Confidence: check.Confirmed, Method: exKnown.Method, Path: path,
			Identity: identity.Anonymous,
			Detail: fmt.Sprintf("A wrong password for an existing user gets %d %q; an unknown user gets %d %q.",
				exKnown.Status, truncate(strings.TrimSpace(a), 80), exUnknown.Status, truncate(strings.TrimSpace(b), 80)),
			Evidence: []check.Evidence{s.Evidence(exKnown, "existing user, wrong password"), s.Evidence(exUnknown, "unknown user")},
			Curl:     s.Curl(exUnknown), SpecLocation: check.SpecLocation(o)})
		return nil
	}
	return nil
}

var volatile = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f-]{19,}|\d{4}-\d{2}-\d{2}T[\d:.]+Z?|"(request_?id|trace_?id|timestamp|time)"\s*:\s*"[^"]*"`)

func normalise(s string) string { return volatile.ReplaceAllString(s, "") }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
