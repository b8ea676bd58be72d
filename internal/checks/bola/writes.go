package bola

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/compare"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
)

const writeClasses = plan.Login | plan.OTPCheck | plan.PasswordReset | plan.LLMSpec | plan.LLMPath

// RunWrites (phase 3, --active): cross-tenant creates and writes on another identity's object.
// Only objects this scan creates are changed or deleted.
func (f *Family) RunWrites(ctx context.Context, s *check.Scan) error {
	users := s.Identities.Users()
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodPost || o.Class&writeClasses != 0 {
			continue
		}
		// Identities that can read the collection (or its items) are the ones worth pairing.
		cands := users
		for _, g := range s.Plan.Operations {
			if g.Method == http.MethodGet && (g.Path == o.Path || strings.HasPrefix(g.Path, o.Path+"/{")) {
				if rs, err := f.readers(ctx, s, g, users, selectors(g), true); err == nil && len(rs) >= 2 {
					cands = rs
					break
				}
			}
		}
		ps := pairs(cands)
		if sels := selectors(o); len(sels) > 0 && s.Enabled(RuleCrossTenantWrite) {
			if err := f.crossTenantWrite(ctx, s, o, ps, sels); err != nil {
				return err
			}
		}
		if s.Enabled(RuleObjectWrite) {
			if err := f.objectWrite(ctx, s, o, ps); err != nil {
				return err
			}
		}
	}
	return nil
}

func send(ctx context.Context, s *check.Scan, req *probe.Request) (*probe.Exchange, error) {
	req.NoRetry = true
	ex, err := s.Client.Do(ctx, req)
	if err != nil && fatal(err) {
		return nil, err
	}
	return ex, nil
}

func accepted(s *check.Scan, ex *probe.Exchange) bool {
	return ex != nil && check.OK(ex.Status) && !compare.IsErrorBody(ex.Body) && !s.IsCatchAll(ex)
}

// crossTenantWrite creates an object in B's tenant with A's credentials.
func (f *Family) crossTenantWrite(ctx context.Context, s *check.Scan, o *plan.Operation, ps [][2]*identity.Identity, sels []sel) error {
	for _, p := range ps {
		a, b := p[0], p[1]
		if len(a.Tenants) == 0 || len(b.Tenants) == 0 {
			continue
		}
		ex, err := send(ctx, s, build(s, o, b, a, sels))
		if err != nil {
			return err
		}
		if !accepted(s, ex) {
			continue
		}
		found := markers(ex.Body, b)
		conf := check.Likely
		if len(found) > 0 {
			conf = check.Confirmed
		}
		sl := sels[0]
		tv, _ := plan.TenantValue(b, sl.param)
		s.Report(check.Finding{
			Rule: RuleCrossTenantWrite, Severity: check.Critical, Confidence: conf, Method: o.Method, Path: o.Path,
			Parameter: &check.Param{In: sl.in, Name: sl.name}, Identity: a.Name(),
			Detail:   fmt.Sprintf("%s's credentials wrote into tenant %s (%s %s=%s) and got %d%s.", a.Name(), tv, sl.in, sl.name, tv, ex.Status, markerNote(found)),
			Evidence: []check.Evidence{s.Evidence(ex, fmt.Sprintf("%s's credentials, %s's tenant", a.Name(), b.Name()))},
			Curl:     s.Curl(ex), SpecLocation: check.SpecLocation(o),
		})
		f.cleanup(ctx, s, o, ex, b)
		return nil
	}
	return nil
}

// createdID finds the new object's ID in the response body or Location header.
func createdID(ex *probe.Exchange) string {
	var m map[string]any
	if json.Unmarshal(ex.Body, &m) == nil {
		for _, k := range []string{"id", "uuid", "_id"} {
			if v, ok := m[k]; ok && v != nil {
				return strings.TrimSuffix(fmt.Sprint(v), ".0")
			}
		}
		if d, ok := m["data"].(map[string]any); ok {
			if v, ok := d["id"]; ok && v != nil {
				return fmt.Sprint(v)
			}
		}
	}
	if loc := ex.Header.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			segs := strings.Split(strings.TrimSuffix(u.Path, "/"), "/")
			return segs[len(segs)-1]
		}
	}
	return ""
}

// itemOps finds the operations on one item of the collection o creates into.
func itemOps(s *check.Scan, o *plan.Operation) (param string, ops map[string]*plan.Operation) {
	ops = map[string]*plan.Operation{}
	for _, x := range s.Plan.Operations {
		if !strings.HasPrefix(x.Path, o.Path+"/{") {
			continue
		}
		rest := strings.TrimPrefix(x.Path, o.Path+"/")
		if strings.Contains(rest, "/") || !strings.HasSuffix(rest, "}") {
			continue
		}
		param = rest[1 : len(rest)-1]
		ops[x.Method] = x
	}
	return param, ops
}

// itemRequest builds a request for an item operation with the item ID set.
func itemRequest(s *check.Scan, op *plan.Operation, values, creds *identity.Identity, param, id string) *probe.Request {
	req := build(s, op, values, creds, selectors(op))
	pv := s.Plan.PathParams(op, values)
	pv[param] = id
	if u, err := url.Parse(req.URL); err == nil {
		u.Path = strings.TrimSuffix(s.Plan.Base.Path, "/") + plan.Expand(op.Path, pv)
		u.RawPath = ""
		req.URL = u.String()
	}
	return req
}

// cleanup deletes an object the scan created, as its owner, when the API documents a DELETE.
func (f *Family) cleanup(ctx context.Context, s *check.Scan, create *plan.Operation, ex *probe.Exchange, owner *identity.Identity) {
	id := createdID(ex)
	param, ops := itemOps(s, create)
	if id == "" || ops[http.MethodDelete] == nil {
		return
	}
	_, _ = send(ctx, s, itemRequest(s, ops[http.MethodDelete], owner, owner, param, id))
}

func marker() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "rampart-" + hex.EncodeToString(b[:])
}

// objectWrite: A creates an object; B tries to change and to delete it; A reads it back.
func (f *Family) objectWrite(ctx context.Context, s *check.Scan, create *plan.Operation, ps [][2]*identity.Identity) error {
	param, ops := itemOps(s, create)
	get := ops[http.MethodGet]
	if get == nil || (ops[http.MethodPatch] == nil && ops[http.MethodPut] == nil && ops[http.MethodDelete] == nil) {
		return nil
	}
	for _, p := range ps {
		a, b := p[0], p[1]
		exC, err := send(ctx, s, build(s, create, a, a, selectors(create)))
		if err != nil {
			return err
		}
		id := ""
		if exC != nil && check.OK(exC.Status) {
			id = createdID(exC)
		}
		if id == "" {
			continue
		}
		readBack := func() (*probe.Exchange, error) {
			return send(ctx, s, itemRequest(s, get, a, a, param, id))
		}
		before, err := readBack()
		if err != nil {
			return err
		}
		if !usable(s, before) {
			continue // the creator cannot read its own object here; try another pair
		}
		// B's credentials must be accepted by this API at all (a 401 says B is the
		// wrong kind of identity here, not that ownership is enforced).
		unauthenticated := true
		for _, m := range []string{http.MethodPatch, http.MethodPut} {
			op := ops[m]
			if op == nil {
				continue
			}
			req := itemRequest(s, op, a, b, param, id)
			mark, ok := changeOneField(req)
			if !ok {
				continue
			}
			exW, err := send(ctx, s, req)
			if err != nil {
				return err
			}
			if exW != nil && exW.Status != http.StatusUnauthorized {
				unauthenticated = false
			}
			if !accepted(s, exW) {
				continue
			}
			after, err := readBack()
			if err != nil {
				return err
			}
			if after != nil && compare.Values(after.Body)[mark] {
				s.Report(check.Finding{
					Rule: RuleObjectWrite, Severity: check.High, Confidence: check.Confirmed, Method: m, Path: op.Path,
					Parameter: &check.Param{In: "path", Name: param}, Identity: b.Name(),
					Detail:   fmt.Sprintf("%s changed %s's object %s (created by this scan): reading it back as %s shows %q.", b.Name(), a.Name(), id, a.Name(), mark),
					Evidence: []check.Evidence{s.Evidence(exW, b.Name()+" writes "+a.Name()+"'s object"), s.Evidence(after, a.Name()+" reads it back")},
					Curl:     s.Curl(exW), SpecLocation: check.SpecLocation(op),
				})
			}
		}
		if op := ops[http.MethodDelete]; op != nil {
			exD, err := send(ctx, s, itemRequest(s, op, a, b, param, id))
			if err != nil {
				return err
			}
			if exD != nil && exD.Status != http.StatusUnauthorized {
				unauthenticated = false
			}
			if exD != nil && check.OK(exD.Status) && !s.IsCatchAll(exD) {
				after, err := readBack()
				if err != nil {
					return err
				}
				if after != nil && (after.Status == http.StatusNotFound || after.Status == http.StatusGone) {
					s.Report(check.Finding{
						Rule: RuleObjectWrite, Severity: check.Critical, Confidence: check.Confirmed, Method: http.MethodDelete, Path: op.Path,
						Parameter: &check.Param{In: "path", Name: param}, Identity: b.Name(),
						Detail:   fmt.Sprintf("%s deleted %s's object %s (created by this scan): %s now gets %d for it.", b.Name(), a.Name(), id, a.Name(), after.Status),
						Evidence: []check.Evidence{s.Evidence(exD, b.Name()+" deletes "+a.Name()+"'s object"), s.Evidence(after, a.Name()+" reads it back")},
						Curl:     s.Curl(exD), SpecLocation: check.SpecLocation(op),
					})
					return nil
				}
			}
			_, _ = send(ctx, s, itemRequest(s, op, a, a, param, id)) // clean up our object
		}
		if !unauthenticated {
			return nil
		}
	}
	return nil
}

// changeOneField sets the first string field of a JSON body to a fresh marker.
func changeOneField(req *probe.Request) (string, bool) {
	var body map[string]any
	if len(req.Body) == 0 || json.Unmarshal(req.Body, &body) != nil {
		return "", false
	}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := body[k].(string); ok && k != "id" {
			m := marker()
			body[k] = m
			b, _ := json.Marshal(body)
			req.Body = b
			return m, true
		}
	}
	return "", false
}
