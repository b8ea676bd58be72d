package authn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/compare"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/jwt"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
)

// ForgedTokenFact publishes tokens Rampart forged with a key won by attack, by the role they claim.
var ForgedTokenFact = check.NewKey[map[string]string]("forged-privileged-token")

// JWTFamily proves token-handling flaws from outside. Every forgery is
// differential: the genuine token gets 2xx on a protected operation, no token
// and a garbage token get 401/403, and only then is a forged token's 2xx evidence.
type JWTFamily struct {
	mu      sync.Mutex
	seen    map[string]bool
	reasons []string
}

// NewJWT returns a fresh JWT family.
func NewJWT() *JWTFamily { return &JWTFamily{seen: map[string]bool{}} }

// Meta describes the family.
func (f *JWTFamily) Meta() check.Family {
	return check.Family{ID: "jwt", Category: check.Authentication, Rules: jwtRules}
}

// Provides the forged-token fact.
func (f *JWTFamily) Provides() []string { return []string{ForgedTokenFact.Name()} }

// Needs nothing.
func (f *JWTFamily) Needs() []string { return nil }

// Estimate: forgeries × protected operations, plus the search for those operations.
func (f *JWTFamily) Estimate(s *check.Scan) int { return 60 + 3*len(s.Plan.Operations) + 8*40 }

// subject is an identity whose credential is a JWT.
type subject struct {
	id  *identity.Identity
	tok *jwt.Token
}

func (f *JWTFamily) once(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen[key] {
		return false
	}
	f.seen[key] = true
	return true
}

func subjects(s *check.Scan) []subject {
	var out []subject
	ids := append(s.Identities.Users(), adminsOf(s.Identities)...)
	for _, id := range ids {
		if t, err := jwt.Parse(id.Token()); err == nil {
			out = append(out, subject{id: id, tok: t})
		}
	}
	return out
}

// tokenOp is an operation the genuine token reads and no or a garbage token cannot.

type tokenOp struct {
	op      *plan.Operation
	genuine *probe.Exchange
	anon    *probe.Exchange
	garbage *probe.Exchange
}

// tokenSwap presents an identity with its token replaced (forged tokens are shown in full).
type tokenSwap struct {
	id       *identity.Identity
	old, new string
	label    string
}

func (t *tokenSwap) Name() string { return t.id.Name() + "+" + t.label }

func (t *tokenSwap) Apply(h http.Header, u *url.URL) []string {
	names := t.id.Apply(h, u)
	for _, n := range names {
		if v := h.Get(n); strings.Contains(v, t.old) {
			h.Set(n, strings.Replace(v, t.old, t.new, 1))
		}
	}
	return names
}

func (t *tokenSwap) Relogin(context.Context, *probe.Client) (bool, error) { return false, nil }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// send presents a forged token on an operation.
func send(ctx context.Context, s *check.Scan, sub subject, o *plan.Operation, token, label string) (*probe.Exchange, error) {
	req := s.Plan.Request(o, sub.id)
	req.Identity = &tokenSwap{id: sub.id, old: sub.tok.Raw, new: token, label: label}
	req.NoRetry = true
	req.ShowHeaders = []string{"Authorization", "Cookie"}
	for h := range sub.id.Headers {
		req.ShowHeaders = append(req.ShowHeaders, h)
	}
	ex, err := s.Client.Do(ctx, req)
	if err != nil {
		if fatal(err) {
			return nil, err
		}
		return nil, nil
	}
	return ex, nil
}

func refused(ex *probe.Exchange) bool {
	return ex != nil && (ex.Status == http.StatusUnauthorized || ex.Status == http.StatusForbidden)
}

// maxTokenOps bounds the operations each forgery is tried on.
const maxTokenOps = 10

// protected finds up to maxTokenOps operations for the differential, and the operations
// this token is refused (403) on, for escalation.
func protected(ctx context.Context, s *check.Scan, sub subject) ([]tokenOp, []*plan.Operation, error) {
	var out []tokenOp
	var forbidden []*plan.Operation
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet || len(out) >= maxTokenOps && len(forbidden) >= 6 {
			continue
		}
		gen, err := s.Client.Do(ctx, s.Plan.Request(o, sub.id))
		if err != nil {
			if fatal(err) {
				return nil, nil, err
			}
			continue
		}
		if gen.Status == http.StatusForbidden && len(forbidden) < 6 {
			forbidden = append(forbidden, o)
			continue
		}
		if len(out) >= maxTokenOps || !usable(s, gen) {
			continue
		}
		anonReq := s.Plan.Request(o, sub.id)
		anonReq.Identity, anonReq.NoRetry = nil, true
		anon, err := s.Client.Do(ctx, anonReq)
		if err != nil {
			if fatal(err) {
				return nil, nil, err
			}
			continue
		}
		if !refused(anon) {
			continue
		}
		garbage, err := send(ctx, s, sub, o, "rampart"+randomHex(16), "garbage")
		if err != nil {
			return nil, nil, err
		}
		if !refused(garbage) {
			continue // a garbage token is not refused: authn's business, not a JWT differential
		}
		out = append(out, tokenOp{op: o, genuine: gen, anon: anon, garbage: garbage})
	}
	return out, forbidden, nil
}

// forger mints tokens with a key.
type forger struct {
	name    string
	won     bool // won by attack (may be used for claim escalation)
	sign    func(header, claims map[string]any) (string, error)
	trivial bool // the server verifies no signature at all
}

// trial is a forged token and where it was accepted.
type trial struct {
	token    string
	accepted []tokenOp
	first    *probe.Exchange
}

// try presents token on the protected operations; it stops at the first
// refusal when quick is set (a shared verifier refuses everywhere).
func (f *JWTFamily) try(ctx context.Context, s *check.Scan, sub subject, prot []tokenOp, token, label string) (*trial, error) {
	t := &trial{token: token}
	for i, p := range prot {
		ex, err := send(ctx, s, sub, p.op, token, label)
		if err != nil {
			return nil, err
		}
		if ex == nil || check.Inconclusive(ex.Status) {
			continue
		}
		if usable(s, ex) && compare.Similarity(ex.Body, p.genuine.Body) >= 0.8 {
			t.accepted = append(t.accepted, p)
			if t.first == nil {
				t.first = ex
			}
		} else if i == 0 && refused(ex) && len(prot) > 3 {
			// Shared verifiers refuse everywhere; still try one more operation for routes with their own verifier.
			continue
		}
	}
	return t, nil
}

// report files one finding per operation that accepted the forged token (the engine folds them).
func (f *JWTFamily) report(s *check.Scan, sub subject, t *trial, rule string, sev check.Severity, detail string, extra ...check.Evidence) {
	for _, p := range t.accepted {
		ev := []check.Evidence{
			s.Evidence(t.first, "forged token accepted"),
			s.Evidence(p.genuine, "genuine token"),
			s.Evidence(p.anon, "no token: refused"),
			s.Evidence(p.garbage, "garbage token: refused"),
		}
		ev = append(ev, extra...)
		s.Report(check.Finding{
			Rule: rule, Severity: sev, Confidence: check.Confirmed, Method: p.op.Method, Path: p.op.Path,
			Identity: sub.id.Name(), Detail: detail + " Forged token: " + t.token,
			Evidence: ev, Curl: s.Curl(t.first), SpecLocation: check.SpecLocation(p.op),
		})
	}
}

func (f *JWTFamily) note(reason string) {
	f.mu.Lock()
	f.reasons = append(f.reasons, reason)
	f.mu.Unlock()
}

// Run is the read phase: per group of tokens (same algorithm, issuer and kid),
// the differential forgeries; per token, the offline secret search.
func (f *JWTFamily) Run(ctx context.Context, s *check.Scan) error {
	subs := subjects(s)
	for _, sub := range subs {
		f.static(s, sub.tok, sub.id)
	}
	if len(subs) == 0 {
		if s.Options.JWT.ForeignToken == "" {
			return &check.Skip{Reason: "no identity's credential is a JWT"}
		}
		return nil
	}
	cracked := map[string]bool{}
	for _, group := range groups(subs) {
		sub := group[0]
		prot, forbidden, err := protected(ctx, s, sub)
		if err != nil {
			return err
		}
		if len(prot) == 0 {
			f.note(fmt.Sprintf("no operation accepts %s's %s token while refusing no token and a garbage token: forgery rules not assessed for it", sub.id.Name(), sub.tok.Alg()))
			continue
		}
		won, err := f.attacks(ctx, s, sub, prot)
		if err != nil {
			return err
		}
		for _, other := range group {
			if _, hmacAlg := jwt.HMACHash(other.tok.Alg()); !hmacAlg || !s.Enabled(RuleWeakSecret) || cracked[other.tok.SigningInput] {
				continue
			}
			cracked[other.tok.SigningInput] = true
			otherProt := prot
			if other.id != sub.id {
				if otherProt, _, err = protected(ctx, s, other); err != nil {
					return err
				}
			}
			fg, err := f.crack(ctx, s, other, otherProt)
			if err != nil {
				return err
			}
			if fg != nil && won == nil && other.id == sub.id {
				won = fg
			}
		}
		if err := f.claimAudits(ctx, s, sub, prot, won); err != nil {
			return err
		}
		if err := f.foreign(ctx, s, sub, prot); err != nil {
			return err
		}
		if won != nil {
			if err := f.escalate(ctx, s, []subject{sub}, forbidden, won); err != nil {
				return err
			}
		}
	}
	return f.partial(s)
}

// groups puts tokens of one verifier together: same alg, issuer and kid.
func groups(subs []subject) [][]subject {
	idx := map[string]int{}
	var out [][]subject
	for _, sub := range subs {
		k := sub.tok.Alg() + "|" + sub.tok.String("iss") + "|" + sub.tok.Kid()
		i, ok := idx[k]
		if !ok {
			idx[k] = len(out)
			out = append(out, nil)
			i = len(out) - 1
		}
		out[i] = append(out[i], sub)
	}
	return out
}

// partial hands the family's notes to the report as warnings.
func (f *JWTFamily) partial(s *check.Scan) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	sort.Strings(f.reasons)
	for _, r := range f.reasons {
		s.Warn(r)
	}
	f.reasons = nil
	return nil
}

// fresh returns claims valid now for ten minutes (forged tokens expire quickly).
func fresh(claims map[string]any, now time.Time) map[string]any {
	out := map[string]any{}
	for k, v := range claims {
		out[k] = v
	}
	if _, ok := out["iat"]; ok {
		out["iat"] = now.Unix()
	}
	if _, ok := out["nbf"]; ok {
		out["nbf"] = now.Unix() - 5
	}
	out["exp"] = now.Add(10 * time.Minute).Unix()
	if _, had := claims["exp"]; !had {
		delete(out, "exp")
	}
	return out
}

var (
	_ check.Check    = (*JWTFamily)(nil)
	_ check.FactUser = (*JWTFamily)(nil)
	_ check.Observer = (*JWTFamily)(nil)
)
