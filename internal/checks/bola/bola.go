// Package bola is the object-level authorization family: another identity
// reading or writing an identity's object, one tenant's credentials reaching
// another tenant's data, and guessable identifiers. Every verdict compares the
// same request across identities by content (the owner's answer, the other
// identity's own answer, the catch-all), never by status alone.
package bola

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/compare"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

// Thresholds for "the same content".
const (
	sameContent = 0.85
	maxPairs    = 8
)

// Family is the BOLA family. Use New for each scan.
type Family struct {
	mu    sync.Mutex
	cache map[string]*probe.Exchange
}

// New returns a fresh family.
func New() *Family { return &Family{cache: map[string]*probe.Exchange{}} }

// Meta describes the family.
func (f *Family) Meta() check.Family {
	return check.Family{ID: "bola", Category: check.BOLA, Rules: rules}
}

// OwnershipFact publishes, per identity, its tenants and the object IDs it was seen to own or see.
var OwnershipFact = check.NewKey[map[string]Ownership]("ownership")

// Ownership is what one identity owns or sees.
type Ownership struct {
	Tenants     []string
	Collections map[string][]string
}

// Provides the ownership model.
func (f *Family) Provides() []string { return []string{OwnershipFact.Name()} }

// Needs nothing.
func (f *Family) Needs() []string { return nil }

// Estimate: a few requests per readable operation and identity pair.
func (f *Family) Estimate(s *check.Scan) int {
	n := 0
	for _, o := range s.Plan.Operations {
		if o.Method == http.MethodGet && (len(plan.TemplateParams(o.Path)) > 0 || len(selectors(o)) > 0) {
			n++
		}
	}
	p := len(pairs(s.Identities.Users()))
	return 20 + n*max(1, p)*4
}

// sel is a tenant selector parameter.
type sel struct {
	in, name string
	param    *spec.Parameter
}

func selectors(o *plan.Operation) []sel {
	var out []sel
	if o.Spec == nil {
		for _, n := range plan.TemplateParams(o.Path) {
			if plan.TenantParam(n) {
				out = append(out, sel{in: "path", name: n})
			}
		}
		return out
	}
	for _, p := range o.Spec.Parameters {
		if plan.TenantParam(p.Name) && (p.In == "path" || p.In == "query" || p.In == "header") {
			out = append(out, sel{in: p.In, name: p.Name, param: p})
		}
	}
	return out
}

func objectParams(o *plan.Operation) []string {
	var out []string
	for _, n := range plan.TemplateParams(o.Path) {
		if !plan.TenantParam(n) {
			out = append(out, n)
		}
	}
	return out
}

func sharesTenant(a, b *identity.Identity) bool {
	for _, x := range a.Tenants {
		for _, y := range b.Tenants {
			if x == y {
				return true
			}
		}
	}
	return false
}

// pairs lists (owner, other) identities from different tenants (or of unknown
// tenant), those with known tenants first.
func pairs(users []*identity.Identity) [][2]*identity.Identity {
	var out [][2]*identity.Identity
	for _, a := range users {
		for _, b := range users {
			if a == b || sharesTenant(a, b) {
				continue
			}
			out = append(out, [2]*identity.Identity{a, b})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ki := len(out[i][0].Tenants) > 0 && len(out[i][1].Tenants) > 0
		kj := len(out[j][0].Tenants) > 0 && len(out[j][1].Tenants) > 0
		return ki && !kj
	})
	if len(out) > maxPairs {
		out = out[:maxPairs]
	}
	return out
}

func fatal(err error) bool {
	return errors.Is(err, probe.ErrBudgetExhausted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// build makes the operation's request with the values (IDs, tenant selectors)
// of one identity and the credentials of another (nil: anonymous).
func build(s *check.Scan, o *plan.Operation, values, creds *identity.Identity, sels []sel) *probe.Request {
	req := s.Plan.Request(o, values)
	for _, sl := range sels {
		v, ok := plan.TenantValue(values, sl.param)
		if !ok {
			continue
		}
		switch sl.in {
		case "header":
			req.Header.Set(sl.name, v)
		case "query":
			if u, err := url.Parse(req.URL); err == nil {
				q := u.Query()
				q.Set(sl.name, v)
				u.RawQuery = q.Encode()
				req.URL = u.String()
			}
		}
	}
	req.Identity = nil
	if creds != nil && !creds.IsAnonymous() {
		req.Identity = creds
	}
	req.NoRetry = true
	return req
}

// do sends a request once per scan (cached by method, URL, tenant headers and identity).
func (f *Family) do(ctx context.Context, s *check.Scan, req *probe.Request) (*probe.Exchange, error) {
	key := req.Method + " " + req.URL + " " + req.IdentityName()
	for _, h := range plan.TenantHeaderCandidates {
		if v := req.Header.Get(h); v != "" {
			key += " " + h + "=" + v
		}
	}
	f.mu.Lock()
	if ex, ok := f.cache[key]; ok {
		f.mu.Unlock()
		return ex, nil
	}
	f.mu.Unlock()
	ex, err := s.Client.Do(ctx, req)
	if err != nil {
		if fatal(err) {
			return nil, err
		}
		return nil, nil
	}
	f.mu.Lock()
	f.cache[key] = ex
	f.mu.Unlock()
	return ex, nil
}

func usable(s *check.Scan, ex *probe.Exchange) bool {
	return ex != nil && check.OK(ex.Status) && compare.HasData(ex.Body) && !s.IsCatchAll(ex)
}

// Run is the read phase.
func (f *Family) Run(ctx context.Context, s *check.Scan) error {
	users := s.Identities.Users()
	f.publish(s)

	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet {
			continue
		}
		sels := selectors(o)
		objs := objectParams(o)
		if len(sels) == 0 && len(objs) == 0 && len(plan.TemplateParams(o.Path)) > 0 {
			continue
		}
		// Pair only identities that can read the operation themselves.
		readers, err := f.readers(ctx, s, o, users, sels)
		if err != nil {
			return err
		}
		ps := pairs(readers)
		for _, p := range ps {
			if len(sels) > 0 && s.Enabled(RuleCrossTenant) {
				if err := f.crossTenant(ctx, s, o, p[0], p[1], sels); err != nil {
					return err
				}
			}
			if len(objs) > 0 && s.Enabled(RuleObjectAccess) {
				if err := f.objectAccess(ctx, s, o, p[0], p[1], sels, objs); err != nil {
					return err
				}
			}
		}
		if len(sels) == 0 && len(plan.TemplateParams(o.Path)) == 0 && s.Enabled(RuleCrossTenant) {
			if err := f.headerSelectors(ctx, s, o, ps); err != nil {
				return err
			}
		}
	}
	if len(users) == 1 && s.Enabled(RuleObjectAccess) {
		if err := f.adjacent(ctx, s, users[0]); err != nil {
			return err
		}
	}
	f.predictable(s, users)
	return nil
}

// readers are the identities whose own request to the operation is usable
// (with data; or, when loose, any 2xx that is not the catch-all).
func (f *Family) readers(ctx context.Context, s *check.Scan, o *plan.Operation, users []*identity.Identity, sels []sel, loose ...bool) ([]*identity.Identity, error) {
	var out []*identity.Identity
	for _, id := range users {
		ex, err := f.do(ctx, s, build(s, o, id, id, sels))
		if err != nil {
			return nil, err
		}
		if usable(s, ex) || len(loose) > 0 && ex != nil && check.OK(ex.Status) && !s.IsCatchAll(ex) {
			out = append(out, id)
		}
	}
	return out, nil
}

func (f *Family) publish(s *check.Scan) {
	m := map[string]Ownership{}
	for _, id := range s.Identities.Authenticated() {
		m[id.Name()] = Ownership{Tenants: id.Tenants, Collections: s.Plan.IDs.Collections(id)}
	}
	check.Put(s.Facts, OwnershipFact, m)
}

// markers returns which of the owner's markers (tenant aliases, object IDs) the body carries.
func markers(body []byte, id *identity.Identity, objectIDs ...string) []string {
	vals := compare.Values(body)
	if compare.Leaves(body) == nil {
		vals = textTokens(body) // not JSON: look for whole tokens in the text
	}
	var out []string
	for _, t := range id.Tenants {
		if vals[t] {
			out = append(out, t)
		}
	}
	for _, v := range objectIDs {
		if v != "" && vals[v] {
			out = append(out, v)
		}
	}
	return out
}

// crossTenant keeps A's credentials and swaps in B's tenant (and B's IDs).
func (f *Family) crossTenant(ctx context.Context, s *check.Scan, o *plan.Operation, a, b *identity.Identity, sels []sel) error {
	if len(a.Tenants) == 0 || len(b.Tenants) == 0 {
		return nil
	}
	exA, err := f.do(ctx, s, build(s, o, a, a, sels))
	if err != nil || !usable(s, exA) {
		return err
	}
	exB, err := f.do(ctx, s, build(s, o, b, b, sels))
	if err != nil || !usable(s, exB) {
		return err
	}
	if compare.Similarity(exA.Body, exB.Body) >= sameContent {
		return nil // both tenants see the same thing here: nothing to tell apart
	}
	exX, err := f.do(ctx, s, build(s, o, b, a, sels))
	if err != nil || !usable(s, exX) || check.Inconclusive(exX.Status) {
		return err
	}
	simB, simA := compare.Similarity(exX.Body, exB.Body), compare.Similarity(exX.Body, exA.Body)
	if simB < sameContent || simA >= simB {
		return nil
	}
	conf := check.Likely
	found := markers(exX.Body, b, objectValues(s, o, b)...)
	if len(found) > 0 {
		conf = check.Confirmed
	}
	sl := sels[0]
	for _, x := range sels {
		if x.in != "path" {
			sl = x // a header or query selector is the more specific culprit
		}
	}
	tv, _ := plan.TenantValue(b, sl.param)
	s.Report(check.Finding{
		Rule: RuleCrossTenant, Severity: check.Critical, Confidence: conf, Method: o.Method, Path: o.Path,
		Parameter: &check.Param{In: sl.in, Name: sl.name}, Identity: a.Name(),
		Title: fmt.Sprintf("Tenant selector %s not bound to the caller", sl.name),
		Detail: fmt.Sprintf("%s's credentials with %s %s=%s return %s's data (%.0f%% identical to %s's own answer, %.0f%% to %s's)%s.",
			a.Name(), sl.in, sl.name, tv, b.Name(), simB*100, b.Name(), simA*100, a.Name(), markerNote(found)),
		Evidence: []check.Evidence{
			s.Evidence(exX, fmt.Sprintf("%s's credentials, %s's tenant", a.Name(), b.Name())),
			s.Evidence(exB, b.Name()+"'s own request"),
			s.Evidence(exA, a.Name()+"'s own request"),
		},
		Curl: s.Curl(exX), SpecLocation: check.SpecLocation(o),
	})
	return nil
}

func markerNote(found []string) string {
	if len(found) == 0 {
		return ""
	}
	return "; it carries " + strings.Join(found, ", ")
}

// objectValues are the identity's values for the operation's object parameters.
func objectValues(s *check.Scan, o *plan.Operation, id *identity.Identity) []string {
	pv := s.Plan.PathParams(o, id)
	var out []string
	for _, n := range objectParams(o) {
		out = append(out, pv[n])
	}
	return out
}

// objectAccess: B requests A's object, in A's context and in B's own context.
func (f *Family) objectAccess(ctx context.Context, s *check.Scan, o *plan.Operation, a, b *identity.Identity, sels []sel, objs []string) error {
	exA, err := f.do(ctx, s, build(s, o, a, a, sels))
	if err != nil || !usable(s, exA) {
		return err
	}
	pa, pb := s.Plan.PathParams(o, a), s.Plan.PathParams(o, b)
	distinct := false
	for _, n := range objs {
		if pa[n] != pb[n] {
			distinct = true
		}
		if s.Plan.IDs.Seen(b, pa[n]) {
			return nil // B sees A's object in its own lists: shared by design
		}
	}
	if !distinct {
		return nil // no object of A's that differs from B's
	}
	exBown, err := f.do(ctx, s, build(s, o, b, b, sels))
	if err != nil {
		return err
	}
	// Variant 1: A's whole request as B. Variant 2: B's own context, A's object ID.
	reqs := []*probe.Request{build(s, o, a, b, sels)}
	if len(sels) > 0 {
		v2 := build(s, o, b, b, sels)
		mixed := map[string]string{}
		for k, v := range pb {
			mixed[k] = v
		}
		for _, n := range objs {
			mixed[n] = pa[n]
		}
		if u, err := url.Parse(v2.URL); err == nil {
			u.Path = strings.TrimSuffix(s.Plan.Base.Path, "/") + plan.Expand(o.Path, mixed)
			u.RawPath = ""
			v2.URL = u.String()
			reqs = append(reqs, v2)
		}
	}
	for _, req := range reqs {
		exX, err := f.do(ctx, s, req)
		if err != nil {
			return err
		}
		if !usable(s, exX) || check.Inconclusive(exX.Status) {
			continue
		}
		simA := compare.Similarity(exX.Body, exA.Body)
		if simA < sameContent {
			continue
		}
		if usable(s, exBown) && compare.Similarity(exX.Body, exBown.Body) >= sameContent {
			continue // indistinguishable from B's own object
		}
		var ids []string
		for _, n := range objs {
			ids = append(ids, pa[n])
		}
		found := markers(exX.Body, a, ids...)
		conf := check.Likely
		if len(found) > 0 {
			conf = check.Confirmed
		}
		sev := check.High
		ev := []check.Evidence{s.Evidence(exX, b.Name()+" requests "+a.Name()+"'s object"), s.Evidence(exA, a.Name()+"'s own request")}
		anon, err := f.do(ctx, s, build(s, o, a, nil, sels))
		if err != nil {
			return err
		}
		if usable(s, anon) && compare.Similarity(anon.Body, exA.Body) >= sameContent {
			sev = check.Critical
			ev = append(ev, s.Evidence(anon, "anonymous gets it too"))
		}
		if exBown != nil {
			ev = append(ev, s.Evidence(exBown, b.Name()+"'s own object, for comparison"))
		}
		s.Report(check.Finding{
			Rule: RuleObjectAccess, Severity: sev, Confidence: conf, Method: o.Method, Path: o.Path,
			Parameter: &check.Param{In: "path", Name: objs[len(objs)-1]}, Identity: b.Name(),
			Detail: fmt.Sprintf("%s reads %s's object %s (%.0f%% identical to %s's own answer)%s.",
				b.Name(), a.Name(), strings.Join(ids, "/"), simA*100, a.Name(), markerNote(found)),
			Evidence: ev, Curl: s.Curl(exX), SpecLocation: check.SpecLocation(o),
		})
		return nil
	}
	return nil
}

// headerSelectors tries undocumented tenant headers on list operations.
func (f *Family) headerSelectors(ctx context.Context, s *check.Scan, o *plan.Operation, ps [][2]*identity.Identity) error {
	for _, p := range ps {
		a, b := p[0], p[1]
		if len(a.Tenants) == 0 || len(b.Tenants) == 0 {
			continue
		}
		exA, err := f.do(ctx, s, build(s, o, a, a, nil))
		if err != nil || !usable(s, exA) {
			return err
		}
		exB, err := f.do(ctx, s, build(s, o, b, b, nil))
		if err != nil || !usable(s, exB) {
			return err
		}
		if compare.Similarity(exA.Body, exB.Body) >= sameContent {
			return nil
		}
		for _, h := range plan.TenantHeaderCandidates[:4] {
			for _, alias := range b.Tenants {
				req := build(s, o, a, a, nil)
				req.Header.Set(h, alias)
				exX, err := f.do(ctx, s, req)
				if err != nil {
					return err
				}
				if !usable(s, exX) || compare.Similarity(exX.Body, exB.Body) < sameContent || compare.Similarity(exX.Body, exA.Body) >= sameContent {
					continue
				}
				found := markers(exX.Body, b)
				conf := check.Likely
				if len(found) > 0 {
					conf = check.Confirmed
				}
				s.Report(check.Finding{
					Rule: RuleCrossTenant, Severity: check.Critical, Confidence: conf, Method: o.Method, Path: o.Path,
					Parameter: &check.Param{In: "header", Name: h}, Identity: a.Name(),
					Title:  fmt.Sprintf("Undocumented tenant header %s not bound to the caller", h),
					Detail: fmt.Sprintf("%s's credentials with the undocumented header %s: %s return %s's data%s.", a.Name(), h, alias, b.Name(), markerNote(found)),
					Evidence: []check.Evidence{s.Evidence(exX, fmt.Sprintf("%s's credentials, %s: %s", a.Name(), h, alias)),
						s.Evidence(exB, b.Name()+"'s own request"), s.Evidence(exA, a.Name()+"'s own request")},
					Curl: s.Curl(exX), SpecLocation: check.SpecLocation(o),
				})
				return nil
			}
		}
		return nil
	}
	return nil
}

var (
	_ check.Check     = (*Family)(nil)
	_ check.Writer    = (*Family)(nil)
	_ check.Estimator = (*Family)(nil)
	_ check.FactUser  = (*Family)(nil)
)

// textTokens splits a text body into identifier-like tokens.
func textTokens(body []byte) map[string]bool {
	out := map[string]bool{}
	for _, t := range strings.FieldsFunc(string(body[:min(len(body), 64<<10)]), func(r rune) bool {
		return !(r == '_' || r == '-' || r == '.' || r == '@' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		out[strings.Trim(t, ".:")] = true
	}
	return out
}
