// Package bfla is the function-level authorization family: administrative
// operations that answer ordinary users as they answer admins, methods the
// spec does not document but the server runs, and method overrides that slip
// past a method restriction.
package bfla

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/compare"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

// Family is the BFLA family.
type Family struct {
	allowed  map[string][]string                   // path template -> undocumented methods the server allows
	spare    map[string]*owned                     // create operation -> an object of ours still alive, for reuse
	spareOps map[string]map[string]*plan.Operation // create operation -> its item operations
}

// New returns a fresh family.
func New() *Family {
	return &Family{allowed: map[string][]string{}, spare: map[string]*owned{}, spareOps: map[string]map[string]*plan.Operation{}}
}

// object returns an object this scan created for the collection, reusing one
// that is still alive, so that a scan creates as few objects as it can.
func (f *Family) object(ctx context.Context, s *check.Scan, create *plan.Operation, ops map[string]*plan.Operation, param string) (*owned, error) {
	if o := f.spare[create.Key()]; o != nil {
		back, err := get(ctx, s, &probe.Request{Method: http.MethodGet, URL: o.url, Identity: o.owner})
		if err != nil {
			return nil, err
		}
		if usable(s, back) {
			return o, nil
		}
		delete(f.spare, create.Key())
	}
	o, err := createObject(ctx, s, create, ops, param)
	if o != nil {
		f.spare[create.Key()] = o
		f.spareOps[create.Key()] = ops
	}
	return o, err
}

// release deletes the spare objects at the end of the write phase.
func (f *Family) release(ctx context.Context, s *check.Scan) {
	keys := make([]string, 0, len(f.spare))
	for k := range f.spare {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cleanup(ctx, s, f.spare[k], f.spareOps[k])
	}
}

// Meta describes the family.
func (f *Family) Meta() check.Family {
	return check.Family{ID: "bfla", Category: check.BFLA, Rules: rules}
}

// Estimate: a few requests per admin-looking operation and one OPTIONS per path.
func (f *Family) Estimate(s *check.Scan) int {
	return 30 + 4*len(s.Plan.Operations)
}

var (
	adminSegment = regexp.MustCompile(`(?i)^(admin|admins|administrator|administration|backoffice|back-office|superuser|sysadmin|staff|manage|management|mgmt)$`)
	adminText    = regexp.MustCompile(`(?i)\badmin(istrator)?s?\s+only\b|\bplatform admin|\bfor administrators\b|\bonly administrators\b|\bsuperusers? only\b`)
)

// isAdminOp decides from path, tags, scopes and prose that an operation is meant for privileged callers.
func isAdminOp(o *plan.Operation) bool {
	for _, seg := range strings.Split(o.Path, "/") {
		if adminSegment.MatchString(seg) {
			return true
		}
	}
	if o.Spec == nil {
		return false
	}
	for _, t := range o.Spec.Tags {
		if adminSegment.MatchString(t) {
			return true
		}
	}
	for _, sc := range o.Spec.Scopes() {
		if strings.Contains(strings.ToLower(sc), "admin") {
			return true
		}
	}
	return adminText.MatchString(o.Spec.Summary + " " + o.Spec.Description)
}

func fatal(err error) bool {
	return errors.Is(err, probe.ErrBudgetExhausted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func get(ctx context.Context, s *check.Scan, req *probe.Request) (*probe.Exchange, error) {
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

func usable(s *check.Scan, ex *probe.Exchange) bool {
	return ex != nil && check.OK(ex.Status) && compare.HasData(ex.Body) && !s.IsCatchAll(ex)
}

func admins(s *check.Scan) []*identity.Identity {
	var out []*identity.Identity
	for _, id := range s.Identities.Authenticated() {
		if id.IsAdmin() {
			out = append(out, id)
		}
	}
	return out
}

// Run: admin functions (documented and probed) and the methods each path allows.
func (f *Family) Run(ctx context.Context, s *check.Scan) error {
	if s.Enabled(RuleAdminFunction) {
		for _, o := range s.Plan.Operations {
			if o.Method != http.MethodGet || !isAdminOp(o) || o.Class&plan.Login != 0 {
				continue
			}
			if err := f.adminFunction(ctx, s, o, o.Path, nil); err != nil {
				return err
			}
		}
		if err := f.probeAdminPaths(ctx, s); err != nil {
			return err
		}
	}
	if s.Enabled(RuleUndocumentedMethod) {
		if err := f.allowedMethods(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// adminFunction compares users' answers with the admin's (o may be nil for probed paths).
func (f *Family) adminFunction(ctx context.Context, s *check.Scan, o *plan.Operation, path string, rel *string) error {
	reqFor := func(id *identity.Identity) *probe.Request {
		if o != nil {
			r := s.Plan.Request(o, id)
			if id == nil || id.IsAnonymous() {
				r.Identity = nil
			}
			return r
		}
		r := &probe.Request{Method: http.MethodGet, URL: s.Plan.URL(*rel, nil), Header: http.Header{"Accept": {"application/json"}}}
		if id != nil && !id.IsAnonymous() {
			r.Identity = id
		}
		return r
	}
	var exAdmin *probe.Exchange
	var admin *identity.Identity
	for _, a := range admins(s) {
		ex, err := get(ctx, s, reqFor(a))
		if err != nil {
			return err
		}
		if usable(s, ex) {
			exAdmin, admin = ex, a
			break
		}
	}
	if o == nil && exAdmin == nil {
		return nil // an undocumented path is judged only against an admin's answer
	}
	anon, err := get(ctx, s, reqFor(nil))
	if err != nil {
		return err
	}
	if usable(s, anon) {
		return nil // public (or an authentication flaw, which is authn's to report)
	}
	for _, u := range s.Identities.Users() {
		ex, err := get(ctx, s, reqFor(u))
		if err != nil {
			return err
		}
		if !usable(s, ex) || check.Inconclusive(ex.Status) {
			continue
		}
		conf := check.Likely
		detail := fmt.Sprintf("%s %s is meant for administrators (%s), yet %s, an ordinary user, gets %d with data.", http.MethodGet, path, why(o), u.Name(), ex.Status)
		ev := []check.Evidence{s.Evidence(ex, u.Name()+" (role user)")}
		if exAdmin != nil {
			sim := compare.Similarity(ex.Body, exAdmin.Body)
			if sim < 0.5 {
				continue // the user sees its own, smaller view
			}
			if sim >= 0.85 {
				conf = check.Confirmed
			}
			detail = fmt.Sprintf("%s (role user) gets the same answer as the admin %s from %s %s (%.0f%% identical).", u.Name(), admin.Name(), http.MethodGet, path, sim*100)
			ev = append(ev, s.Evidence(exAdmin, admin.Name()+" (role admin)"))
		}
		sev := check.High
		if others := foreignTenants(s, u, ex.Body); len(others) > 0 {
			sev = check.Critical
			detail += " It includes other tenants' data (" + strings.Join(others, ", ") + ")."
		}
		f2 := check.Finding{
			Rule: RuleAdminFunction, Severity: sev, Confidence: conf, Method: http.MethodGet, Path: path, Identity: u.Name(),
			Detail: detail, Evidence: ev, Curl: s.Curl(ex),
		}
		if o != nil {
			f2.SpecLocation = check.SpecLocation(o)
		}
		s.Report(f2)
		return nil
	}
	return nil
}

func why(o *plan.Operation) string {
	if o == nil {
		return "an administrative path"
	}
	var r []string
	for _, seg := range strings.Split(o.Path, "/") {
		if adminSegment.MatchString(seg) {
			r = append(r, "its path")
			break
		}
	}
	if o.Spec != nil {
		for _, sc := range o.Spec.Scopes() {
			if strings.Contains(strings.ToLower(sc), "admin") {
				r = append(r, "scope "+sc)
				break
			}
		}
		if adminText.MatchString(o.Spec.Summary + " " + o.Spec.Description) {
			r = append(r, "its description")
		}
	}
	if len(r) == 0 {
		r = append(r, "its tags")
	}
	return strings.Join(r, ", ")
}

// foreignTenants lists tenant aliases of other identities found in the body.
func foreignTenants(s *check.Scan, u *identity.Identity, body []byte) []string {
	vals := compare.Values(body)
	mine := map[string]bool{}
	for _, t := range u.Tenants {
		mine[t] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, id := range s.Identities.Authenticated() {
		for _, t := range id.Tenants {
			if !mine[t] && vals[t] && !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	sort.Strings(out)
	return out
}

var adminLeaves = []string{"/admin", "/admin/users", "/admin/stats", "/admin/settings", "/admin/config", "/admin/accounts", "/admin/tenants"}

// probeAdminPaths tries common admin paths under the API's version prefixes (admin identity required).
func (f *Family) probeAdminPaths(ctx context.Context, s *check.Scan) error {
	if len(admins(s)) == 0 {
		return nil
	}
	prefixes := map[string]bool{"": true}
	for _, o := range s.Plan.Operations {
		segs := strings.Split(strings.Trim(o.Path, "/"), "/")
		if len(segs) > 1 && regexp.MustCompile(`^(v\d+|api)$`).MatchString(segs[0]) {
			prefixes["/"+segs[0]] = true
		}
	}
	keys := make([]string, 0, len(prefixes))
	for k := range prefixes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, p := range keys {
		for _, leaf := range adminLeaves {
			rel := p + leaf
			if s.Plan.Find(http.MethodGet, rel) != nil {
				continue
			}
			if err := f.adminFunction(ctx, s, nil, rel, &rel); err != nil {
				return err
			}
		}
	}
	return nil
}

// allowedMethods asks each path which methods it allows and remembers the undocumented ones.
func (f *Family) allowedMethods(ctx context.Context, s *check.Scan) error {
	documented := map[string]map[string]bool{}
	sample := map[string]*plan.Operation{}
	for _, o := range s.Plan.Operations {
		if documented[o.Path] == nil {
			documented[o.Path] = map[string]bool{}
		}
		documented[o.Path][o.Method] = true
		if sample[o.Path] == nil || o.Method == http.MethodGet {
			sample[o.Path] = o
		}
	}
	paths := make([]string, 0, len(sample))
	for p := range sample {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	users := s.Identities.Users()
	for _, p := range paths {
		o := sample[p]
		var id *identity.Identity
		if len(users) > 0 {
			id = users[0]
		}
		req := s.Plan.Request(o, id)
		req.Method, req.Body = http.MethodOptions, nil
		ex, err := get(ctx, s, req)
		if err != nil {
			return err
		}
		if ex == nil {
			continue
		}
		for _, m := range strings.Split(ex.Header.Get("Allow"), ",") {
			m = strings.ToUpper(strings.TrimSpace(m))
			switch m {
			case http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost:
				if !documented[p][m] {
					f.allowed[p] = append(f.allowed[p], m)
				}
			}
		}
	}
	return nil
}

// RunWrites (phase 3, --active): prove undocumented methods and method overrides on objects this scan creates.
func (f *Family) RunWrites(ctx context.Context, s *check.Scan) error {
	defer f.release(ctx, s)
	for _, create := range s.Plan.Operations {
		if create.Method != http.MethodPost || create.Class&(plan.Login|plan.OTPCheck|plan.PasswordReset|plan.LLMSpec|plan.LLMPath) != 0 {
			continue
		}
		param, ops := itemOps(s, create)
		item := create.Path + "/{" + param + "}"
		if param == "" || ops[http.MethodGet] == nil {
			continue
		}
		if s.Enabled(RuleUndocumentedMethod) {
			if err := f.learnAllow(ctx, s, create, ops, param, item); err != nil {
				return err
			}
			for _, m := range f.allowed[item] {
				if err := f.tryMethod(ctx, s, create, ops, param, m); err != nil {
					return err
				}
			}
		}
		if s.Enabled(RuleMethodOverride) {
			if err := f.tryOverride(ctx, s, create, ops, param); err != nil {
				return err
			}
		}
	}
	return nil
}

// learnAllow asks a real item (created for the purpose) which methods it allows,
// for APIs that answer OPTIONS only on existing objects.
func (f *Family) learnAllow(ctx context.Context, s *check.Scan, create *plan.Operation, ops map[string]*plan.Operation, param, item string) error {
	if len(f.allowed[item]) > 0 {
		return nil
	}
	o, err := f.object(ctx, s, create, ops, param)
	if err != nil || o == nil {
		return err
	}
	ex, err := get(ctx, s, &probe.Request{Method: http.MethodOptions, URL: o.url, Identity: o.owner})
	if err != nil || ex == nil {
		return err
	}
	for _, m := range strings.Split(ex.Header.Get("Allow"), ",") {
		m = strings.ToUpper(strings.TrimSpace(m))
		switch m {
		case http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost:
			if ops[m] == nil && !contains(f.allowed[item], m) {
				f.allowed[item] = append(f.allowed[item], m)
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// itemOps finds the operations on one item of the collection create posts into.
func itemOps(s *check.Scan, create *plan.Operation) (string, map[string]*plan.Operation) {
	ops := map[string]*plan.Operation{}
	param := ""
	for _, x := range s.Plan.Operations {
		rest, ok := strings.CutPrefix(x.Path, create.Path+"/{")
		if !ok || strings.Contains(rest, "/") || !strings.HasSuffix(rest, "}") {
			continue
		}
		param = strings.TrimSuffix(rest, "}")
		ops[x.Method] = x
	}
	return param, ops
}

// owned is an object this scan created, and who created it.
type owned struct {
	id    string
	owner *identity.Identity
	url   string
}

func createObject(ctx context.Context, s *check.Scan, create *plan.Operation, ops map[string]*plan.Operation, param string) (*owned, error) {
	for _, u := range s.Identities.Users() {
		ex, err := get(ctx, s, s.Plan.Request(create, u))
		if err != nil {
			return nil, err
		}
		if ex == nil || !check.OK(ex.Status) {
			continue
		}
		id := createdID(ex)
		if id == "" {
			continue
		}
		o := &owned{id: id, owner: u, url: itemURL(s, ops[http.MethodGet], u, param, id)}
		back, err := get(ctx, s, &probe.Request{Method: http.MethodGet, URL: o.url, Identity: u})
		if err != nil {
			return nil, err
		}
		if usable(s, back) {
			return o, nil
		}
	}
	return nil, nil
}

func itemURL(s *check.Scan, op *plan.Operation, id *identity.Identity, param, value string) string {
	pv := s.Plan.PathParams(op, id)
	pv[param] = value
	return s.Plan.URL(plan.Expand(op.Path, pv), nil)
}

func createdID(ex *probe.Exchange) string {
	var m map[string]any
	if json.Unmarshal(ex.Body, &m) == nil {
		if v, ok := m["id"]; ok && v != nil {
			return strings.TrimSuffix(fmt.Sprint(v), ".0")
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

func marker() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "rampart-" + hex.EncodeToString(b[:])
}

// effect sends req and reads the object back: deleted, or carrying the marker.
func effect(ctx context.Context, s *check.Scan, o *owned, req *probe.Request, method, mark string) (*probe.Exchange, *probe.Exchange, bool, error) {
	ex, err := get(ctx, s, req)
	if err != nil || ex == nil || !check.OK(ex.Status) || s.IsCatchAll(ex) {
		return ex, nil, false, err
	}
	back, err := get(ctx, s, &probe.Request{Method: http.MethodGet, URL: o.url, Identity: o.owner})
	if err != nil || back == nil {
		return ex, back, false, err
	}
	if method == http.MethodDelete {
		return ex, back, back.Status == http.StatusNotFound || back.Status == http.StatusGone, nil
	}
	return ex, back, compare.Values(back.Body)[mark], nil
}

// preferredFields orders the fields worth changing: those the item's documented
// writes accept, then common free-text names.
func preferredFields(ops map[string]*plan.Operation) []string {
	var out []string
	for _, m := range []string{http.MethodPatch, http.MethodPut, http.MethodPost} {
		if op := ops[m]; op != nil && op.Spec != nil && op.Spec.RequestBody != nil {
			if mt := spec.JSONMediaType(op.Spec.RequestBody.Content); mt != nil && mt.Schema != nil {
				keys := make([]string, 0, len(mt.Schema.Properties))
				for k := range mt.Schema.Properties {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				out = append(out, keys...)
			}
		}
	}
	return append(out, "name", "title", "text", "description", "note", "label", "comment")
}

// writeBody is the object's current JSON with one string field set to mark.
func writeBody(ctx context.Context, s *check.Scan, o *owned, prefer []string) ([]byte, string, error) {
	back, err := get(ctx, s, &probe.Request{Method: http.MethodGet, URL: o.url, Identity: o.owner})
	if err != nil || back == nil {
		return nil, "", err
	}
	var m map[string]any
	if json.Unmarshal(back.Body, &m) != nil {
		return nil, "", nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	keys = append(append([]string(nil), prefer...), keys...)
	mark := marker()
	for _, k := range keys {
		if _, ok := m[k].(string); ok && k != "id" {
			m[k] = mark
			b, _ := json.Marshal(m)
			return b, mark, nil
		}
	}
	return nil, "", nil
}

// cleanup deletes an object this scan created; what it cannot delete is named in the report's warnings.
func cleanup(ctx context.Context, s *check.Scan, o *owned, ops map[string]*plan.Operation) {
	back, _ := get(ctx, s, &probe.Request{Method: http.MethodGet, URL: o.url, Identity: o.owner})
	if back != nil && (back.Status == http.StatusNotFound || back.Status == http.StatusGone) {
		return // already gone
	}
	if ops[http.MethodDelete] != nil {
		ex, _ := get(ctx, s, &probe.Request{Method: http.MethodDelete, URL: o.url, Identity: o.owner})
		if ex != nil && check.OK(ex.Status) {
			return
		}
	}
	s.Warn(fmt.Sprintf("object %s created by this scan could not be deleted", o.url))
}

func (f *Family) tryMethod(ctx context.Context, s *check.Scan, create *plan.Operation, ops map[string]*plan.Operation, param, method string) error {
	o, err := f.object(ctx, s, create, ops, param)
	if err != nil || o == nil {
		return err
	}
	req := &probe.Request{Method: method, URL: o.url, Identity: o.owner, Header: http.Header{}}
	mark := ""
	if method != http.MethodDelete {
		body, m, err := writeBody(ctx, s, o, preferredFields(ops))
		if err != nil || body == nil {
			return err
		}
		req.Body, mark = body, m
		req.Header.Set("Content-Type", "application/json")
	}
	ex, back, ok, err := effect(ctx, s, o, req, method, mark)
	if err != nil || !ok {
		return err
	}
	sev := check.Medium
	if method == http.MethodDelete || method == http.MethodPut {
		sev = check.High
	}
	s.Report(check.Finding{
		Rule: RuleUndocumentedMethod, Severity: sev, Confidence: check.Confirmed, Method: method, Path: ops[http.MethodGet].Path,
		Identity: o.owner.Name(),
		Detail: fmt.Sprintf("The spec documents no %s on %s, but the server lists it in Allow and %s used it on an object this scan created; reading it back shows the effect.",
			method, ops[http.MethodGet].Path, o.owner.Name()),
		Evidence: []check.Evidence{s.Evidence(ex, "undocumented "+method), s.Evidence(back, "read back")},
		Curl:     s.Curl(ex),
	})
	return nil
}

var overrides = []struct{ header, query string }{
	{header: "X-HTTP-Method-Override"}, {header: "X-Method-Override"}, {header: "X-HTTP-Method"}, {query: "_method"},
}

// tryOverride: a method refused directly but performed through an override.
func (f *Family) tryOverride(ctx context.Context, s *check.Scan, create *plan.Operation, ops map[string]*plan.Operation, param string) error {
	for _, method := range []string{http.MethodPatch, http.MethodPut, http.MethodDelete} {
		o, err := f.object(ctx, s, create, ops, param)
		if err != nil || o == nil {
			return err
		}
		mark := ""
		var body []byte
		if method != http.MethodDelete {
			if body, mark, err = writeBody(ctx, s, o, preferredFields(ops)); err != nil || body == nil {
				continue
			}
		}
		direct := &probe.Request{Method: method, URL: o.url, Identity: o.owner, Body: body, Header: http.Header{"Content-Type": {"application/json"}}}
		dex, _, worked, err := effect(ctx, s, o, direct, method, mark)
		if err != nil {
			return err
		}
		if worked || dex == nil || (dex.Status != 403 && dex.Status != 405 && dex.Status != 401) {
			continue // the method is allowed (or absent) anyway: an override gains nothing
		}
		for _, ov := range overrides {
			req := &probe.Request{Method: http.MethodPost, URL: o.url, Identity: o.owner, Body: body, Header: http.Header{"Content-Type": {"application/json"}}}
			label := ""
			if ov.header != "" {
				req.Header.Set(ov.header, method)
				label = ov.header + ": " + method
			} else {
				u, _ := url.Parse(o.url)
				q := u.Query()
				q.Set(ov.query, method)
				u.RawQuery = q.Encode()
				req.URL = u.String()
				label = ov.query + "=" + method
			}
			ex, back, ok, err := effect(ctx, s, o, req, method, mark)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			sev := check.High
			if method == http.MethodDelete {
				sev = check.Critical
			}
			s.Report(check.Finding{
				Rule: RuleMethodOverride, Severity: sev, Confidence: check.Confirmed, Method: method, Path: ops[http.MethodGet].Path,
				Parameter: &check.Param{In: map[bool]string{true: "header", false: "query"}[ov.header != ""], Name: ov.header + ov.query},
				Identity:  o.owner.Name(),
				Detail: fmt.Sprintf("%s %s is refused for %s (%d), but POST with %s performs it: reading the object back shows the effect.",
					method, ops[http.MethodGet].Path, o.owner.Name(), dex.Status, label),
				Evidence: []check.Evidence{s.Evidence(ex, "POST with "+label), s.Evidence(dex, "direct "+method+" refused"), s.Evidence(back, "read back")},
				Curl:     s.Curl(ex),
			})
			break
		}
	}
	return nil
}

var (
	_ check.Check     = (*Family)(nil)
	_ check.Writer    = (*Family)(nil)
	_ check.Estimator = (*Family)(nil)
)
