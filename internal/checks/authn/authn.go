// Package authn is the authentication family: operations that answer without
// credentials, credentials accepted without being checked, a method that skips
// the check its sibling makes, and missing security headers. Every verdict is a
// differential against the genuine identity's response; none rests on a status alone.
package authn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/rampart-scan/rampart/internal/baseline"
	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/compare"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
)

// Family is the authentication family. Use New for each scan.
type Family struct {
	mu        sync.Mutex
	protected map[string]*protectedOp // op key -> what the read phase learned
	wins      map[string]int          // identity -> operations it could read
	headers   headerState
}

// protectedOp is an operation the genuine identity reads and anonymous cannot.
type protectedOp struct {
	op      *plan.Operation
	id      *identity.Identity
	genuine *probe.Exchange
}

// New returns a fresh family.
func New() *Family { return &Family{protected: map[string]*protectedOp{}, wins: map[string]int{}} }

// Meta describes the family.
func (f *Family) Meta() check.Family {
	return check.Family{ID: "authn", Category: check.Authentication, Rules: rules}
}

// Estimate is about three requests per readable operation.
func (f *Family) Estimate(s *check.Scan) int {
	n := 0
	for _, o := range s.Plan.Operations {
		if o.Method == http.MethodGet {
			n += 3
		} else {
			n += 2
		}
	}
	return n + 10
}

type observation struct {
	op          *plan.Operation
	genuine     *probe.Exchange
	id          *identity.Identity
	anon        *probe.Exchange
	specSecured bool
}

// Run is the read phase: for each GET operation, the genuine identity's answer
// against anonymous and against garbage credentials.
func (f *Family) Run(ctx context.Context, s *check.Scan) error {
	specSilent := s.Spec == nil || !anySecured(s.Plan)
	var obs []*observation
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet {
			continue
		}
		if !specSilent && !o.Secured() {
			continue // the spec says it is public
		}
		ob, err := f.observe(ctx, s, o)
		if err != nil {
			return err
		}
		if ob != nil {
			ob.specSecured = o.Secured()
			obs = append(obs, ob)
		}
	}
	// Prefixes where some operation demands credentials (for specs that say nothing).
	authPrefix := map[string]bool{}
	for _, ob := range obs {
		if ob.genuine != nil && ob.anon != nil && (ob.anon.Status == 401 || ob.anon.Status == 403) {
			authPrefix[baseline.Prefix(ob.op.Path)] = true
		}
	}
	for _, ob := range obs {
		if ob.anon == nil {
			continue
		}
		switch {
		case ob.anon.Status == 401 || ob.anon.Status == 403:
			if ob.genuine != nil {
				f.mu.Lock()
				f.protected[ob.op.Key()] = &protectedOp{op: ob.op, id: ob.id, genuine: ob.genuine}
				f.mu.Unlock()
				if err := f.tryGarbage(ctx, s, ob); err != nil {
					return err
				}
			}
		case ob.specSecured || authPrefix[baseline.Prefix(ob.op.Path)]:
			f.judgeMissing(s, ob)
		}
	}
	return nil
}

func anySecured(p *plan.Plan) bool {
	for _, o := range p.Operations {
		if o.Secured() {
			return true
		}
	}
	return false
}

func fatal(err error) bool {
	return errors.Is(err, probe.ErrBudgetExhausted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// usable: a 2xx with data that is not the catch-all.
func usable(s *check.Scan, ex *probe.Exchange) bool {
	return ex != nil && check.OK(ex.Status) && compare.HasData(ex.Body) && !s.IsCatchAll(ex)
}

// observe fetches an operation as the first identity that can read it, then as anonymous.
func (f *Family) observe(ctx context.Context, s *check.Scan, o *plan.Operation) (*observation, error) {
	ob := &observation{op: o}
	for i, id := range f.candidates(s) {
		if i == maxTries {
			break
		}
		ex, err := s.Client.Do(ctx, s.Plan.Request(o, id))
		if err != nil {
			if fatal(err) {
				return nil, err
			}
			continue
		}
		if !check.OK(ex.Status) || s.IsCatchAll(ex) {
			continue
		}
		if ob.genuine == nil || compare.HasData(ex.Body) {
			ob.genuine, ob.id = ex, id // an empty answer proves access; keep looking for one with data
		}
		if compare.HasData(ex.Body) {
			f.mu.Lock()
			f.wins[id.Name()]++
			f.mu.Unlock()
			break
		}
	}
	var req *probe.Request
	if ob.id != nil {
		req = s.Plan.Request(o, ob.id)
	} else {
		req = s.Plan.Request(o, nil)
	}
	req.Identity = nil
	req.NoRetry = true
	ex, err := s.Client.Do(ctx, req)
	if err != nil {
		if fatal(err) {
			return nil, err
		}
		return nil, nil
	}
	ob.anon = ex
	return ob, nil
}

// maxTries bounds how many identities are tried per operation.
const maxTries = 8

// candidates orders identities for the genuine request: users before admins,
// and those that worked most often first (APIs mix key and token auth by route).
func (f *Family) candidates(s *check.Scan) []*identity.Identity {
	ids := append(s.Identities.Users(), adminsOf(s.Identities)...)
	f.mu.Lock()
	wins := make(map[string]int, len(f.wins))
	for k, v := range f.wins {
		wins[k] = v
	}
	f.mu.Unlock()
	sort.SliceStable(ids, func(i, j int) bool {
		if ids[i].IsAdmin() != ids[j].IsAdmin() {
			return !ids[i].IsAdmin()
		}
		return wins[ids[i].Name()] > wins[ids[j].Name()]
	})
	return ids
}

func adminsOf(set *identity.Set) []*identity.Identity {
	var out []*identity.Identity
	for _, id := range set.Authenticated() {
		if id.IsAdmin() {
			out = append(out, id)
		}
	}
	return out
}

// judgeMissing reports an operation that answers anonymous with the data the genuine identity gets.
func (f *Family) judgeMissing(s *check.Scan, ob *observation) {
	anon := ob.anon
	if check.Inconclusive(anon.Status) || !usable(s, anon) {
		return
	}
	conf := check.Likely
	sev := check.High
	detail := fmt.Sprintf("%s %s is declared secured but answered an anonymous request with %d and data.", ob.op.Method, ob.op.Path, anon.Status)
	ev := []check.Evidence{s.Evidence(anon, "anonymous request, no credentials")}
	if ob.genuine != nil {
		if check.Inconclusive(ob.genuine.Status) {
			return
		}
		sim := compare.Similarity(anon.Body, ob.genuine.Body)
		switch {
		case sim >= 0.9:
			conf = check.Confirmed
		case sim >= 0.5:
			conf = check.Likely
		default:
			return // a different (public) view of the resource, not the identity's data
		}
		detail = fmt.Sprintf("Anonymous callers get the same response as %s (%.0f%% identical content) from %s %s, which %s.",
			ob.id.Name(), sim*100, ob.op.Method, ob.op.Path, securedWhy(ob))
		if marker := ownMarker(anon.Body, ob.id); marker != "" {
			sev = check.Critical
			detail += fmt.Sprintf(" The response carries %s's marker %q.", ob.id.Name(), marker)
		}
		ev = append(ev, s.Evidence(ob.genuine, "the same request as "+ob.id.Name()))
	} else if !ob.specSecured {
		return
	}
	s.Report(check.Finding{
		Rule: RuleMissing, Severity: sev, Confidence: conf, Method: ob.op.Method, Path: ob.op.Path,
		Identity: identity.Anonymous, Detail: detail, Evidence: ev, Curl: s.Curl(anon), SpecLocation: check.SpecLocation(ob.op),
	})
}

func securedWhy(ob *observation) string {
	if ob.specSecured {
		return "the spec declares secured"
	}
	return "sits beside operations that demand credentials"
}

// ownMarker returns a tenant alias or the name of the identity found among the body's values.
func ownMarker(body []byte, id *identity.Identity) string {
	if id == nil {
		return ""
	}
	vals := compare.Values(body)
	for _, t := range id.Tenants {
		if vals[t] {
			return t
		}
	}
	if vals[id.Name()] {
		return id.Name()
	}
	return ""
}

// garbage wraps an identity and replaces its credential values with invalid ones of the same shape.
type garbage struct {
	id   *identity.Identity
	seed string
}

func (g *garbage) Name() string { return g.id.Name() + "-invalid" }

func (g *garbage) Apply(h http.Header, u *url.URL) []string {
	scratch := http.Header{}
	names := g.id.Apply(scratch, u)
	for _, n := range names {
		v := scratch.Get(n)
		if n == "Cookie" {
			var parts []string
			for _, c := range strings.Split(v, ";") {
				k, _, _ := strings.Cut(strings.TrimSpace(c), "=")
				parts = append(parts, k+"="+g.seed)
			}
			h.Set(n, strings.Join(parts, "; "))
			continue
		}
		if scheme, _, ok := strings.Cut(v, " "); ok && len(scheme) < 16 {
			h.Set(n, scheme+" "+g.seed)
		} else {
			h.Set(n, g.seed)
		}
	}
	return names
}

func (g *garbage) Relogin(context.Context, *probe.Client) (bool, error) { return false, nil }

func randomToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "rampartInvalid" + hex.EncodeToString(b[:])
}

// tryGarbage repeats a protected request with invalid credentials of the same shape.
func (f *Family) tryGarbage(ctx context.Context, s *check.Scan, ob *observation) error {
	if !s.Enabled(RuleInvalidAccepted) || ob.id == nil || len(ob.id.Headers)+len(ob.id.Cookies) == 0 && ob.id.Login == nil {
		return nil
	}
	req := s.Plan.Request(ob.op, ob.id)
	req.Identity = &garbage{id: ob.id, seed: randomToken()}
	req.NoRetry = true
	// The made-up value is no secret: show it, so the curl line replays as is.
	req.ShowHeaders = []string{"Authorization", "Cookie"}
	for h := range ob.id.Headers {
		req.ShowHeaders = append(req.ShowHeaders, h)
	}
	ex, err := s.Client.Do(ctx, req)
	if err != nil {
		if fatal(err) {
			return err
		}
		return nil
	}
	if check.Inconclusive(ex.Status) || !usable(s, ex) {
		return nil
	}
	sim := compare.Similarity(ex.Body, ob.genuine.Body)
	if sim < 0.5 {
		return nil
	}
	conf := check.Likely
	if sim >= 0.9 {
		conf = check.Confirmed
	}
	s.Report(check.Finding{
		Rule: RuleInvalidAccepted, Severity: check.Critical, Confidence: conf, Method: ob.op.Method, Path: ob.op.Path,
		Identity: req.Identity.Name(),
		Detail: fmt.Sprintf("Anonymous requests get %d, but a made-up credential in %s's place gets %d and %.0f%% of %s's content.",
			ob.anon.Status, ob.id.Name(), ex.Status, sim*100, ob.id.Name()),
		Evidence: []check.Evidence{s.Evidence(ex, "invalid credential of the same shape"), s.Evidence(ob.anon, "anonymous: refused"), s.Evidence(ob.genuine, "genuine credential")},
		Curl:     s.Curl(ex), SpecLocation: check.SpecLocation(ob.op),
	})
	return nil
}

// RunWrites (phase 3, --active): write methods that skip the check the path's GET makes.
func (f *Family) RunWrites(ctx context.Context, s *check.Scan) error {
	if !s.Enabled(RuleMethodBypass) {
		return nil
	}
	f.mu.Lock()
	prot := make(map[string]*protectedOp, len(f.protected))
	for k, v := range f.protected {
		prot[k] = v
	}
	f.mu.Unlock()
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodPost || o.Class&(plan.Login|plan.OTPCheck|plan.PasswordReset|plan.LLMSpec|plan.LLMPath) != 0 {
			continue
		}
		p, ok := prot[http.MethodGet+" "+o.Path]
		if !ok {
			continue
		}
		req := s.Plan.Request(o, p.id)
		req.Identity = nil
		req.NoRetry = true
		ex, err := s.Client.Do(ctx, req)
		if err != nil {
			if fatal(err) {
				return err
			}
			continue
		}
		if check.Inconclusive(ex.Status) || !check.OK(ex.Status) || compare.IsErrorBody(ex.Body) || s.IsCatchAll(ex) {
			continue
		}
		s.Report(check.Finding{
			Rule: RuleMethodBypass, Severity: check.High, Confidence: check.Confirmed, Method: o.Method, Path: o.Path,
			Identity: identity.Anonymous,
			Detail: fmt.Sprintf("GET %s refuses anonymous callers (%d), but an anonymous POST to the same path was accepted with %d%s.",
				o.Path, 401, ex.Status, createdNote(ex.Body)),
			Evidence:     []check.Evidence{s.Evidence(ex, "anonymous POST"), s.Evidence(p.genuine, "GET as "+p.id.Name()+" (anonymous GET is refused)")},
			Curl:         s.Curl(ex),
			SpecLocation: check.SpecLocation(o),
		})
	}
	return nil
}

func createdNote(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		if id, ok := m["id"]; ok {
			return fmt.Sprintf(" and created object %v", id)
		}
	}
	return ""
}

var (
	_ check.Check     = (*Family)(nil)
	_ check.Writer    = (*Family)(nil)
	_ check.Estimator = (*Family)(nil)
	_ check.Observer  = (*Family)(nil)
)
