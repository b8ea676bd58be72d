package input

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/compare"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

// RunWrites (phase 3, --active): other body encodings on JSON writes, and operator objects in logins.
func (f *Family) RunWrites(ctx context.Context, s *check.Scan) error {
	if s.Enabled(RuleContentTypeConfuse) {
		if err := f.contentTypes(ctx, s); err != nil {
			return err
		}
	}
	if s.Enabled(RuleNoSQLInjection) {
		if err := f.nosql(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

func (f *Family) contentTypes(ctx context.Context, s *check.Scan) error {
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodPost || o.Spec == nil || o.Spec.RequestBody == nil || o.Class&(plan.Login|plan.OTPCheck|plan.PasswordReset|plan.LLMSpec|plan.LLMPath) != 0 {
			continue
		}
		ct := o.Spec.RequestBody.Content
		if spec.JSONMediaType(ct) == nil || ct["application/x-www-form-urlencoded"] != nil || ct["multipart/form-data"] != nil {
			continue
		}
		id, exJSON, err := s.Writer(ctx, o)
		if err != nil {
			return err
		}
		if exJSON == nil {
			continue // the normal JSON request must work first
		}
		jsonReq := s.Plan.Request(o, id)
		var fields map[string]any
		if json.Unmarshal(jsonReq.Body, &fields) != nil || len(fields) == 0 {
			continue
		}
		form := url.Values{}
		xml := "<request>"
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := fmt.Sprint(fields[k])
			form.Set(k, v)
			xml += "<" + k + ">" + v + "</" + k + ">"
		}
		xml += "</request>"
		for _, alt := range []struct{ ct, body string }{{"application/x-www-form-urlencoded", form.Encode()}, {"application/xml", xml}} {
			req := s.Plan.Request(o, id)
			req.Body = []byte(alt.body)
			req.Header.Set("Content-Type", alt.ct)
			ex, err := do(ctx, s, req)
			if err != nil {
				return err
			}
			if ex == nil || !check.OK(ex.Status) || compare.IsErrorBody(ex.Body) || s.IsCatchAll(ex) {
				continue
			}
			sev := check.Low
			if id != nil && len(id.Cookies) > 0 {
				sev = check.Medium
			}
			s.Report(check.Finding{Rule: RuleContentTypeConfuse, Severity: sev, Confidence: check.Confirmed, Method: o.Method, Path: o.Path,
				Parameter: &check.Param{In: "header", Name: "Content-Type"}, Identity: ex.Identity,
				Detail:   fmt.Sprintf("The JSON-only operation accepts a %s body (%d).", alt.ct, ex.Status),
				Evidence: []check.Evidence{s.Evidence(ex, alt.ct+" body")}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(o)})
			break
		}
	}
	return nil
}

var userKey = regexp.MustCompile(`(?i)^(email|username|user|login|name)$`)
var passKey = regexp.MustCompile(`(?i)pass`)

// nosql replaces the password of a configured login with operator objects.
func (f *Family) nosql(ctx context.Context, s *check.Scan) error {
	for _, o := range s.Plan.Operations {
		if o.Class&plan.Login == 0 || o.Method != http.MethodPost {
			continue
		}
		user, pkey, ukey := knownUser(s, o)
		if user == "" {
			continue
		}
		send := func(pass any) (*probe.Exchange, error) {
			b, _ := json.Marshal(map[string]any{ukey: user, pkey: pass})
			req := s.Plan.Request(o, nil)
			req.Body = b
			req.Header.Set("Content-Type", "application/json")
			return do(ctx, s, req)
		}
		wrong, err := send("Rampart-wrong-" + randHex(4))
		if err != nil {
			return err
		}
		if wrong == nil || check.OK(wrong.Status) || check.Inconclusive(wrong.Status) {
			continue
		}
		for _, op := range []map[string]any{{"$ne": "rampart-" + randHex(3)}, {"$gt": ""}, {"$regex": ".*"}} {
			ex, err := send(op)
			if err != nil {
				return err
			}
			if ex == nil || !check.OK(ex.Status) || compare.IsErrorBody(ex.Body) {
				continue
			}
			opText, _ := json.Marshal(op)
			s.Report(check.Finding{Rule: RuleNoSQLInjection, Severity: check.Critical, Confidence: check.Confirmed, Method: o.Method, Path: o.Path,
				Parameter: &check.Param{In: "body", Name: pkey}, Identity: identity.Anonymous,
				Detail:   fmt.Sprintf("A login for %q with %s=%s instead of the password succeeds (%d); a wrong password gets %d.", user, pkey, opText, ex.Status, wrong.Status),
				Evidence: []check.Evidence{s.Evidence(ex, "operator object as password"), s.Evidence(wrong, "wrong password")}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(o)})
			break
		}
	}
	return nil
}

// knownUser finds a configured login for this operation (or, failing that, any
// configured username with the operation's own user and password fields).
func knownUser(s *check.Scan, o *plan.Operation) (user, pkey, ukey string) {
	if u, p, k := loginFor(s, o); u != "" {
		return u, p, k
	}
	var sch *spec.Schema
	if o.Spec != nil && o.Spec.RequestBody != nil {
		if mt := spec.JSONMediaType(o.Spec.RequestBody.Content); mt != nil {
			sch = mt.Schema
		}
	}
	if sch == nil {
		return "", "", ""
	}
	for k := range sch.Properties {
		switch {
		case userKey.MatchString(k):
			ukey = k
		case passKey.MatchString(k):
			pkey = k
		}
	}
	if ukey == "" || pkey == "" {
		return "", "", ""
	}
	for _, id := range s.Identities.Authenticated() {
		if id.Login == nil {
			continue
		}
		if body, ok := id.Login.JSON.(map[string]any); ok {
			for k, v := range body {
				if str, isStr := v.(string); isStr && userKey.MatchString(k) {
					return str, pkey, ukey
				}
			}
		}
	}
	return "", "", ""
}

func loginFor(s *check.Scan, o *plan.Operation) (user, pkey, ukey string) {
	for _, id := range s.Identities.Authenticated() {
		if id.Login == nil {
			continue
		}
		u, err := id.LoginURL(s.Client.Target())
		if err != nil {
			continue
		}
		rel, _ := s.Plan.RelPath(u)
		if !plan.MatchTemplate(o.Path, rel) {
			continue
		}
		body, ok := id.Login.JSON.(map[string]any)
		if !ok {
			continue
		}
		for k, v := range body {
			if str, isStr := v.(string); isStr && userKey.MatchString(k) {
				user, ukey = str, k
			} else if isStr && passKey.MatchString(k) {
				pkey = k
			}
		}
		if user != "" && pkey != "" {
			return user, pkey, ukey
		}
	}
	return "", "", ""
}
