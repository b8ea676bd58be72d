// Package property is the property-level authorization family: responses that
// carry sensitive fields the schema does not declare, and writes that set
// server-owned fields (role, admin, balance, ...), proven by reading back.
package property

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

// Family is the property family. Use New for each scan.
type Family struct {
	mu   sync.Mutex
	seen map[string]bool
}

// New returns a fresh family.
func New() *Family { return &Family{seen: map[string]bool{}} }

// Meta describes the family.
func (f *Family) Meta() check.Family {
	return check.Family{ID: "property", Category: check.PropertyAuthorization, Rules: rules}
}

// Estimate: one read per documented GET and identity, and a few writes per update operation.
func (f *Family) Estimate(s *check.Scan) int {
	n := 10
	for _, o := range s.Plan.Operations {
		switch o.Method {
		case http.MethodGet:
			n += 2
		case http.MethodPatch, http.MethodPut:
			n += 12
		}
	}
	return n
}

var (
	secretField = regexp.MustCompile(`(?i)(^|_|-)(password|passwd|pwd|pass_?hash|password_?hash|hash|salt|secret|client_secret|api_?key|apikey|access_?key|private_?key|token|refresh_?token|session|otp|totp|mfa_?secret|seed)($|_|-)|(password|secret|apikey|apiKey|Token|Hash)$`)
	piiField    = regexp.MustCompile(`(?i)(^|_)(ssn|social_security|national_id|tax_id|card_?number|pan|cvv|cvc|iban|passport)($|_)`)
)

func fatal(err error) bool {
	return errors.Is(err, probe.ErrBudgetExhausted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Run reads each documented GET as up to two identities and checks what comes back.
func (f *Family) Run(ctx context.Context, s *check.Scan) error {
	if s.Enabled(RuleMassAssignmentSurface) {
		f.surface(s)
	}
	if !s.Enabled(RuleExcessiveExposure) {
		return nil
	}
	ids := s.Identities.Users()
	if len(ids) > 2 {
		ids = ids[:2]
	}
	if len(ids) == 0 {
		ids = []*identity.Identity{s.Identities.Anonymous()}
	}
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet || o.Spec == nil {
			continue
		}
		for _, id := range ids {
			req := s.Plan.Request(o, id)
			ex, err := s.Client.Do(ctx, req)
			if err != nil {
				if fatal(err) {
					return err
				}
				continue
			}
			f.exposure(s, o, ex, id)
		}
	}
	return nil
}

// Observe checks every other exchange of the scan too.
func (f *Family) Observe(s *check.Scan, ex *probe.Exchange) {
	if !s.Enabled(RuleExcessiveExposure) || !check.OK(ex.Status) || ex.Family == "property" {
		return
	}
	o := s.Plan.Find(ex.Method, s.RelPath(ex))
	if o == nil || o.Spec == nil {
		return
	}
	f.exposure(s, o, ex, s.Identities.Get(ex.Identity))
}

// responseSchema finds the documented JSON schema for a status.
func responseSchema(o *spec.Operation, status int) *spec.Schema {
	code := fmt.Sprint(status)
	for _, k := range []string{code, code[:1] + "XX", code[:1] + "xx", "default"} {
		if r := o.Responses[k]; r != nil {
			if mt := spec.JSONMediaType(r.Content); mt != nil {
				return mt.Schema
			}
		}
	}
	return nil
}

type leak struct {
	path  string
	name  string
	value string
	pii   bool
}

// undeclared walks a JSON value against its schema and returns sensitive fields the schema does not declare.
func undeclared(v any, sc *spec.Schema, path string, depth int, out *[]leak) {
	if sc == nil || depth > 12 || len(*out) > 20 {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if !describesObject(sc) {
			return // a free-form object: nothing to compare against
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := x[k]
			if prop := propertyOf(sc, k, 0); prop != nil {
				undeclared(child, prop, path+"."+k, depth+1, out)
				continue
			}
			if sc.AdditionalProperties != nil {
				continue // a map: any key is declared
			}
			str := scalar(child)
			if str == "" {
				continue
			}
			switch {
			case secretField.MatchString(k):
				*out = append(*out, leak{path: path + "." + k, name: k, value: str})
			case piiField.MatchString(k):
				*out = append(*out, leak{path: path + "." + k, name: k, value: str, pii: true})
			}
		}
	case []any:
		items := sc.Items
		if items == nil {
			return
		}
		for i, e := range x {
			if i >= 25 {
				break
			}
			undeclared(e, items, path+"[]", depth+1, out)
		}
	}
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64, bool:
		return fmt.Sprint(x)
	}
	return ""
}

// describesObject: the schema (or a part of it) lists properties.
func describesObject(sc *spec.Schema) bool {
	if len(sc.Properties) > 0 {
		return true
	}
	for _, g := range [][]*spec.Schema{sc.AllOf, sc.OneOf, sc.AnyOf} {
		for _, sub := range g {
			if sub != nil && describesObject(sub) {
				return true
			}
		}
	}
	return false
}

func propertyOf(sc *spec.Schema, name string, depth int) *spec.Schema {
	if sc == nil || depth > 8 {
		return nil
	}
	if p, ok := sc.Properties[name]; ok {
		if p == nil {
			return &spec.Schema{}
		}
		return p
	}
	for _, g := range [][]*spec.Schema{sc.AllOf, sc.OneOf, sc.AnyOf} {
		for _, sub := range g {
			if p := propertyOf(sub, name, depth+1); p != nil {
				return p
			}
		}
	}
	return nil
}

func (f *Family) exposure(s *check.Scan, o *plan.Operation, ex *probe.Exchange, id *identity.Identity) {
	if o.Class&(plan.Login|plan.OTPCheck|plan.PasswordReset) != 0 || !check.OK(ex.Status) {
		return // tokens issued to the caller are not a leak
	}
	sc := responseSchema(o.Spec, ex.Status)
	if sc == nil {
		return
	}
	var body any
	if json.Unmarshal(ex.Body, &body) != nil {
		return
	}
	var leaks []leak
	undeclared(body, sc, "", 0, &leaks)
	own := map[string]bool{}
	if id != nil {
		for _, sec := range id.Secrets() {
			own[sec] = true
		}
	}
	var kept []leak
	for _, l := range leaks {
		if !own[l.value] {
			kept = append(kept, l)
		}
	}
	if len(kept) == 0 {
		return
	}
	key := o.Key()
	f.mu.Lock()
	done := f.seen[key]
	f.seen[key] = true
	f.mu.Unlock()
	if done {
		return
	}
	sev := check.Medium
	var names []string
	seenName := map[string]bool{}
	for _, l := range kept {
		if !l.pii {
			sev = check.High
		}
		if !seenName[l.path] {
			seenName[l.path] = true
			names = append(names, strings.TrimPrefix(l.path, "."))
		}
	}
	s.Report(check.Finding{
		Rule: RuleExcessiveExposure, Severity: sev, Confidence: check.Confirmed, Method: o.Method, Path: o.Path,
		Parameter: &check.Param{In: "body", Name: names[0]}, Identity: ex.Identity,
		Detail: fmt.Sprintf("The response carries %s, which the documented response schema does not declare (values redacted in the evidence).",
			strings.Join(names, ", ")),
		Evidence: []check.Evidence{s.Evidence(ex, "undeclared fields: "+strings.Join(names, ", "))},
		Curl:     s.Curl(ex), SpecLocation: check.SpecLocation(o),
	})
}

// privileged names server-owned fields a client must not set.
var privileged = regexp.MustCompile(`(?i)^(role|roles|user_?role|is_?admin|admin|is_?superuser|superuser|is_?staff|staff|permissions?|scopes?|privileges?|group|groups|credit|credits|balance|score|points|karma|verified|is_?verified|email_?verified|approved|is_?approved|owner|owner_?id|user_?id|tenant|tenant_?id|org|org_?id|organi[sz]ation_?id|account_?id|plan|tier|subscription|price|discount|is_?premium|premium)$`)

// escalation fields change what the caller may do.
var escalation = regexp.MustCompile(`(?i)role|admin|superuser|staff|permission|scope|privilege|group`)

// surface reports writable privileged fields in request schemas.
func (f *Family) surface(s *check.Scan) {
	for _, o := range s.Plan.Operations {
		if o.Spec == nil || o.Spec.RequestBody == nil || (o.Method != http.MethodPost && o.Method != http.MethodPut && o.Method != http.MethodPatch) {
			continue
		}
		if o.Class&(plan.Login|plan.OTPCheck|plan.PasswordReset|plan.LLMSpec) != 0 {
			continue
		}
		mt := spec.JSONMediaType(o.Spec.RequestBody.Content)
		if mt == nil || mt.Schema == nil {
			continue
		}
		var found []string
		for _, name := range propertyNames(mt.Schema) {
			if p := propertyOf(mt.Schema, name, 0); privileged.MatchString(name) && (p == nil || !p.ReadOnly) {
				found = append(found, name)
			}
		}
		if len(found) == 0 {
			continue
		}
		s.Report(check.Finding{
			Rule: RuleMassAssignmentSurface, Severity: check.Low, Confidence: check.Confirmed, Method: o.Method, Path: o.Path,
			Parameter:    &check.Param{In: "body", Name: found[0]},
			Detail:       fmt.Sprintf("The request schema lets clients write %s.", strings.Join(found, ", ")),
			Evidence:     []check.Evidence{{Kind: check.EvidenceNote, Note: "request schema declares " + strings.Join(found, ", ") + " as writable"}},
			SpecLocation: check.SpecLocation(o),
		})
	}
}

func propertyNames(sc *spec.Schema) []string {
	seen := map[string]bool{}
	var walk func(*spec.Schema, int)
	walk = func(x *spec.Schema, d int) {
		if x == nil || d > 8 {
			return
		}
		for k := range x.Properties {
			seen[k] = true
		}
		for _, sub := range x.AllOf {
			walk(sub, d+1)
		}
	}
	walk(sc, 0)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var (
	_ check.Check     = (*Family)(nil)
	_ check.Writer    = (*Family)(nil)
	_ check.Observer  = (*Family)(nil)
	_ check.Estimator = (*Family)(nil)
)
