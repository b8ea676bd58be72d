package property

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

// lockout names fields whose change could cut the scan off from the object
// (its owner or tenant); they are never written.
var lockout = regexp.MustCompile(`(?i)^(owner|owner_?id|user_?id|tenant|tenant_?id|org|org_?id|organi[sz]ation_?id|account_?id)$`)

var privilegedValue = regexp.MustCompile(`(?i)admin|owner|super|root|staff|manager`)

// RunWrites (phase 3, --active): send one server-owned field in an update of an
// existing object, read it back, and restore it.
func (f *Family) RunWrites(ctx context.Context, s *check.Scan) error {
	if !s.Enabled(RuleMassAssignment) {
		return nil
	}
	for _, op := range s.Plan.Operations {
		if (op.Method != http.MethodPatch && op.Method != http.MethodPut) || op.Spec == nil {
			continue
		}
		var get *plan.Operation
		for _, o := range s.Plan.Operations {
			if o.Method == http.MethodGet && o.Path == op.Path {
				get = o
			}
		}
		if get == nil {
			continue
		}
		for i, id := range s.Identities.Users() {
			if i == 6 {
				break
			}
			done, err := f.massAssign(ctx, s, op, get, id)
			if err != nil {
				return err
			}
			if done {
				break // one identity that can read and write the object is enough
			}
		}
	}
	return nil
}

func readObject(ctx context.Context, s *check.Scan, get *plan.Operation, id *identity.Identity) (*probe.Exchange, map[string]any, error) {
	req := s.Plan.Request(get, id)
	req.NoRetry = true
	ex, err := s.Client.Do(ctx, req)
	if err != nil {
		if fatal(err) {
			return nil, nil, err
		}
		return nil, nil, nil
	}
	var m map[string]any
	if !check.OK(ex.Status) || s.IsCatchAll(ex) || json.Unmarshal(ex.Body, &m) != nil || len(m) == 0 {
		return ex, nil, nil
	}
	return ex, m, nil
}

// massAssign tries the candidates on one object; done means the identity could read the object.
func (f *Family) massAssign(ctx context.Context, s *check.Scan, op, get *plan.Operation, id *identity.Identity) (bool, error) {
	_, before, err := readObject(ctx, s, get, id)
	if err != nil || before == nil {
		return false, err
	}
	reqSchema := requestSchema(op.Spec)
	respSchema := responseSchema(get.Spec, 200)
	var names []string
	for k := range before {
		if !privileged.MatchString(k) || lockout.MatchString(k) {
			continue
		}
		if p := propertyOf(reqSchema, k, 0); p != nil && !p.ReadOnly {
			continue // documented as writable: the surface rule's business
		}
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { // escalation fields first
		ei, ej := escalation.MatchString(names[i]), escalation.MatchString(names[j])
		if ei != ej {
			return ei
		}
		return names[i] < names[j]
	})
	for _, name := range names {
		cur := before[name]
		next, ok := newValue(name, cur, propertyOf(respSchema, name, 0))
		if !ok {
			continue
		}
		exW, err := f.write(ctx, s, op, id, before, reqSchema, name, next)
		if err != nil {
			return true, err
		}
		if exW == nil || !check.OK(exW.Status) {
			continue
		}
		exAfter, after, err := readObject(ctx, s, get, id)
		if err != nil {
			return true, err
		}
		if after == nil || !sameValue(after[name], next) {
			continue
		}
		sev := check.High
		if escalation.MatchString(name) {
			sev = check.Critical
		}
		// Restore and verify.
		exR, err := f.write(ctx, s, op, id, before, reqSchema, name, cur)
		if err != nil {
			return true, err
		}
		note := "restored to its original value"
		if _, restored, _ := readObject(ctx, s, get, id); exR == nil || restored == nil || !sameValue(restored[name], cur) {
			note = "could NOT be restored"
			s.Warn(fmt.Sprintf("%s %s: field %s of %s's object is left as %v (was %v); restore it by hand", op.Method, op.Path, name, id.Name(), next, cur))
		}
		s.Report(check.Finding{
			Rule: RuleMassAssignment, Severity: sev, Confidence: check.Confirmed, Method: op.Method, Path: op.Path,
			Parameter: &check.Param{In: "body", Name: name}, Identity: id.Name(),
			Detail: fmt.Sprintf("%s sent %s=%v in %s %s, which the request schema does not allow; reading the object back shows %s=%v (it was %v). The field was %s.",
				id.Name(), name, jsonText(next), op.Method, op.Path, name, jsonText(after[name]), jsonText(cur), note),
			Evidence: []check.Evidence{s.Evidence(exW, "write with the privileged field"), s.Evidence(exAfter, "read back")},
			Curl:     s.Curl(exW), SpecLocation: check.SpecLocation(op),
		})
		return true, nil
	}
	return true, nil
}

// write sends the update: declared fields keep their current values, plus the one field.
func (f *Family) write(ctx context.Context, s *check.Scan, op *plan.Operation, id *identity.Identity, before map[string]any, reqSchema *spec.Schema, name string, value any) (*probe.Exchange, error) {
	body := map[string]any{}
	if op.Method == http.MethodPut {
		for k, v := range before {
			body[k] = v
		}
	} else {
		for _, k := range propertyNames(reqSchema) {
			if v, ok := before[k]; ok {
				body[k] = v
			}
		}
		if reqSchema != nil {
			for _, k := range reqSchema.Required {
				if _, ok := body[k]; !ok {
					var sample map[string]any
					_ = json.Unmarshal(s.Plan.Request(op, id).Body, &sample)
					if v, ok := sample[k]; ok {
						body[k] = v
					}
				}
			}
		}
	}
	body[name] = value
	data, _ := json.Marshal(body)
	req := s.Plan.Request(op, id)
	req.Body = data
	req.Header.Set("Content-Type", "application/json")
	req.NoRetry = true
	ex, err := s.Client.Do(ctx, req)
	if err != nil {
		if fatal(err) {
			return nil, err
		}
		return nil, nil
	}
	return ex, nil
}

func requestSchema(o *spec.Operation) *spec.Schema {
	if o == nil || o.RequestBody == nil {
		return nil
	}
	if mt := spec.JSONMediaType(o.RequestBody.Content); mt != nil {
		return mt.Schema
	}
	return nil
}

// newValue picks a more privileged value of the same type.
func newValue(name string, cur any, sc *spec.Schema) (any, bool) {
	switch x := cur.(type) {
	case bool:
		if x {
			return nil, false // already true: nothing to gain
		}
		return true, true
	case float64:
		return x + 1000, true
	case []any:
		return append(append([]any(nil), x...), "admin"), true
	case string:
		if sc != nil && len(sc.Enum) > 0 {
			var other any
			for _, e := range sc.Enum {
				es, ok := e.(string)
				if !ok || es == x {
					continue
				}
				if privilegedValue.MatchString(es) {
					return es, true
				}
				if other == nil {
					other = es
				}
			}
			if other != nil {
				return other, true
			}
			return nil, false
		}
		if escalation.MatchString(name) && !privilegedValue.MatchString(x) {
			return "admin", true
		}
	}
	return nil, false
}

func sameValue(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
