// Package inventory is the inventory family: routes the spec does not
// document (older versions, debug endpoints, variations of documented paths),
// deprecated operations still answering, exposed documentation, and hidden
// parameters. Every verdict is judged against the catch-all baseline and by content.
package inventory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/compare"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
)

// Family is the inventory family.
type Family struct{}

// New returns a fresh family.
func New() *Family { return &Family{} }

// Meta describes the family.
func (f *Family) Meta() check.Family {
	return check.Family{ID: "inventory", Category: check.Inventory, Rules: rules}
}

// Estimate: the debug grid, the docs list, version variants and hidden parameters.
func (f *Family) Estimate(s *check.Scan) int { return 250 + 3*len(s.Plan.Operations) }

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

// live: 2xx with data, not the catch-all (a baseline for the path's prefix is taken first).
func live(ctx context.Context, s *check.Scan, ex *probe.Exchange) (bool, error) {
	if ex == nil || !check.OK(ex.Status) || !compare.HasData(ex.Body) {
		return false, nil
	}
	if err := s.EnsureBaseline(ctx, s.RelPath(ex)); err != nil && fatal(err) {
		return false, err
	}
	return !s.IsCatchAll(ex), nil
}

func anonGet(s *check.Scan, rel string) *probe.Request {
	return &probe.Request{Method: http.MethodGet, URL: s.Plan.URL(rel, nil), Header: http.Header{"Accept": {"application/json, */*;q=0.5"}}}
}

// Run probes everything read-only.
func (f *Family) Run(ctx context.Context, s *check.Scan) error {
	steps := []struct {
		rule string
		fn   func(context.Context, *check.Scan) error
	}{
		{RuleDebugEndpoint, f.debug},
		{RuleExposedDocs, f.docs},
		{RuleLegacyVersion, f.legacy},
		{RuleDeprecatedAlive, f.deprecated},
		{RuleUndocumented, f.undocumented},
		{RuleHiddenParameter, f.hidden},
	}
	for _, st := range steps {
		if !s.Enabled(st.rule) {
			continue
		}
		if err := st.fn(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

var versionSeg = regexp.MustCompile(`^v(\d{1,2})$`)

// prefixes are "", "/internal", ... and the spec's version prefixes.
func prefixes(s *check.Scan, extra ...string) []string {
	set := map[string]bool{"": true}
	for _, e := range extra {
		set[e] = true
	}
	for _, o := range s.Plan.Operations {
		segs := strings.Split(strings.Trim(o.Path, "/"), "/")
		if len(segs) > 1 && (versionSeg.MatchString(segs[0]) || segs[0] == "api") {
			set["/"+segs[0]] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var debugLeaves = []string{"debug", "_debug", "debug/vars", "debug/pprof/", "actuator", "actuator/env", "env", "server-status", ".env", "phpinfo.php", "config", "__debug__", "trace", "vars"}

// debug content signatures, from most to least severe.
var (
	secretLike = regexp.MustCompile(`(?i)(AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|[a-z][a-z0-9+.-]*://[^\s:/@"]*:[^\s:/@"]+@[^\s"]+|(password|passwd|secret|api_?key|access_?key|token)["']?\s*[:=]\s*["']?[^\s"',}]{6,})`)
	configLike = regexp.MustCompile(`(?i)("cmdline"|"memstats"|"PATH"\s*[:=]|\bPATH=|\bHOME=|DATABASE_URL|"activeProfiles"|"propertySources"|\bGOMAXPROCS\b|"env"\s*:)`)
	profLike   = regexp.MustCompile(`(?i)(/debug/pprof/|goroutine profile|Apache Server Status|Server Version:|PHP Version|phpinfo\(\)|Total Accesses:)`)
	metricLike = regexp.MustCompile(`(?m)^# (HELP|TYPE) [a-z_:][a-z0-9_:]* `)
	// secretValue captures the secret part of secret-looking text (last group).
	secretValue = regexp.MustCompile(`(?i)(\b(AKIA[0-9A-Z]{16})\b|[a-z][a-z0-9+.-]*://[^\s:/@"]*:([^\s:/@"]+)@|(password|passwd|secret|api_?key|access_?key|secret_?key|token|smtp_?key)["']?\s*[:=]\s*["']?([^\s"',}]{6,}))`)
)

func classifyDebug(body []byte) (check.Severity, string, bool) {
	b := body[:min(len(body), 256<<10)]
	switch {
	case secretLike.Match(b):
		return check.Critical, "it exposes secrets (credentials, keys or connection strings; redacted in the evidence)", true
	case configLike.Match(b):
		return check.High, "it dumps runtime configuration or environment", true
	case profLike.Match(b):
		return check.Medium, "it serves profiling or server status pages", true
	case metricLike.Match(b):
		return check.Low, "it serves internal metrics", true
	}
	return 0, "", false
}

// debug probes prefixes × leaves, anonymously.
func (f *Family) debug(ctx context.Context, s *check.Scan) error {
	seen := map[string]bool{}
	for _, p := range prefixes(s, "/internal", "/_internal", "/private", "/admin", "/api") {
		for _, leaf := range debugLeaves {
			rel := p + "/" + leaf
			if seen[rel] || s.Plan.Find(http.MethodGet, strings.TrimSuffix(rel, "/")) != nil {
				continue
			}
			seen[rel] = true
			ex, err := get(ctx, s, anonGet(s, rel))
			if err != nil {
				return err
			}
			ok, err := live(ctx, s, ex)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			sev, why, isDebug := classifyDebug(ex.Body)
			if !isDebug {
				continue
			}
			for _, m := range secretValue.FindAllSubmatch(ex.Body[:min(len(ex.Body), 256<<10)], 50) {
				for _, g := range []int{2, 3, 5} {
					if len(m[g]) > 0 {
						s.Client.Redactor().AddSecret(string(m[g])) // matched secrets never reach the report
					}
				}
			}
			s.Report(check.Finding{
				Rule: RuleDebugEndpoint, Severity: sev, Confidence: check.Confirmed, Method: http.MethodGet, Path: strings.TrimSuffix(rel, "/"),
				Identity: identity.Anonymous, Detail: fmt.Sprintf("%s answers anonymous callers and %s.", rel, why),
				Evidence: []check.Evidence{s.Evidence(ex, "undocumented diagnostics endpoint")}, Curl: s.Curl(ex),
			})
		}
	}
	return nil
}

var docPaths = []string{"/docs", "/redoc", "/swagger-ui/", "/swagger-ui.html", "/api-docs", "/openapi.json", "/openapi.yaml", "/swagger.json", "/v3/api-docs"}

var docLike = regexp.MustCompile(`(?i)swagger-ui|redoc|"openapi"\s*:|"swagger"\s*:|^openapi:|^swagger:`)

func (f *Family) docs(ctx context.Context, s *check.Scan) error {
	var found []*probe.Exchange
	var paths []string
	for _, p := range docPaths {
		ex, err := get(ctx, s, anonGet(s, p))
		if err != nil {
			return err
		}
		ok, err := live(ctx, s, ex)
		if err != nil {
			return err
		}
		if ok && docLike.Match(ex.Body[:min(len(ex.Body), 64<<10)]) {
			found = append(found, ex)
			paths = append(paths, p)
		}
	}
	if len(found) == 0 {
		return nil
	}
	s.Report(check.Finding{
		Rule: RuleExposedDocs, Severity: check.Info, Confidence: check.Confirmed, Method: http.MethodGet, Path: paths[0],
		Identity: identity.Anonymous, Detail: "API documentation is served to anonymous callers at " + strings.Join(paths, ", ") + ".",
		Evidence: []check.Evidence{s.Evidence(found[0], "documentation")}, Curl: s.Curl(found[0]),
	})
	return nil
}

func firstUser(s *check.Scan) *identity.Identity {
	if u := s.Identities.Users(); len(u) > 0 {
		return u[0]
	}
	return nil
}

// readable returns the first identity's (or anonymous) usable answer to an operation.
func readable(ctx context.Context, s *check.Scan, o *plan.Operation) (*identity.Identity, *probe.Exchange, error) {
	ids := append(s.Identities.Users(), nil)
	for _, id := range ids {
		ex, err := get(ctx, s, s.Plan.Request(o, id))
		if err != nil {
			return nil, nil, err
		}
		if ok, err := live(ctx, s, ex); err != nil || ok {
			return id, ex, err
		}
	}
	return nil, nil, nil
}

// legacy tries lower versions of versioned GET operations.
func (f *Family) legacy(ctx context.Context, s *check.Scan) error {
	done := map[string]bool{}
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet {
			continue
		}
		segs := strings.Split(o.Path, "/")
		vi, ver := -1, 0
		for i, seg := range segs {
			if m := versionSeg.FindStringSubmatch(seg); m != nil {
				vi, ver = i, atoi(m[1])
				break
			}
		}
		if vi < 0 || ver < 2 {
			continue
		}
		id, cur, err := readable(ctx, s, o)
		if err != nil {
			return err
		}
		if cur == nil {
			continue
		}
		for old := ver - 1; old >= max(1, ver-3); old-- {
			legacySegs := append([]string(nil), segs...)
			legacySegs[vi] = "v" + strconv.Itoa(old)
			tmpl := strings.Join(legacySegs, "/")
			if done[tmpl] || s.Plan.Find(http.MethodGet, tmpl) != nil {
				continue
			}
			done[tmpl] = true
			u, _ := url.Parse(cur.URL)
			rel, _ := s.Plan.RelPath(u)
			relSegs := strings.Split(rel, "/")
			if vi >= len(relSegs) {
				continue
			}
			relSegs[vi] = "v" + strconv.Itoa(old)
			oldRel := strings.Join(relSegs, "/")
			req := s.Plan.Request(o, id)
			req.URL = s.Plan.URL(oldRel, u.Query())
			ex, err := get(ctx, s, req)
			if err != nil {
				return err
			}
			ok, err := live(ctx, s, ex)
			if err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			sev, detail := check.Medium, fmt.Sprintf("%s answers beside the documented %s.", tmpl, o.Path)
			ev := []check.Evidence{s.Evidence(ex, "older version"), s.Evidence(cur, "documented version")}
			conf := check.Likely
			if compare.Similarity(ex.Body, cur.Body) >= 0.5 || carriesPathIDs(ex.Body, rel) {
				conf = check.Confirmed // the same object answers at the older version
			}
			// Weaker controls: anonymous gets the old version while the current one refuses anonymous callers.
			anonReq := s.Plan.Request(o, id)
			anonReq.Identity, anonReq.URL = nil, req.URL
			anonOld, err := get(ctx, s, anonReq)
			if err != nil {
				return err
			}
			curAnon := s.Plan.Request(o, id)
			curAnon.Identity = nil
			anonCur, err := get(ctx, s, curAnon)
			if err != nil {
				return err
			}
			curl := s.Curl(ex)
			if okOld, _ := live(ctx, s, anonOld); okOld && anonCur != nil && (anonCur.Status == 401 || anonCur.Status == 403) {
				sev = check.High
				detail += fmt.Sprintf(" It serves anonymous callers, while %s answers them %d.", o.Path, anonCur.Status)
				ev = append([]check.Evidence{s.Evidence(anonOld, "older version, no credentials")}, append(ev, s.Evidence(anonCur, "documented version, no credentials"))...)
				curl = s.Curl(anonOld)
			}
			s.Report(check.Finding{Rule: RuleLegacyVersion, Severity: sev, Confidence: conf, Method: http.MethodGet, Path: tmpl,
				Identity: ex.Identity, Detail: detail, Evidence: ev, Curl: curl})
		}
	}
	return nil
}

// carriesPathIDs reports whether a body holds one of the ID-like segments of the path.
func carriesPathIDs(body []byte, rel string) bool {
	vals := compare.Values(body)
	for _, seg := range strings.Split(rel, "/") {
		if check.TemplatePath("/"+seg) == "/{}" && vals[seg] {
			return true
		}
	}
	return false
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func (f *Family) deprecated(ctx context.Context, s *check.Scan) error {
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet || o.Spec == nil || !o.Spec.Deprecated {
			continue
		}
		_, ex, err := readable(ctx, s, o)
		if err != nil {
			return err
		}
		if ex == nil {
			continue
		}
		s.Report(check.Finding{Rule: RuleDeprecatedAlive, Severity: check.Low, Confidence: check.Confirmed, Method: o.Method, Path: o.Path,
			Identity: ex.Identity, Detail: "The spec marks this operation deprecated, but it still answers with data.",
			Evidence: []check.Evidence{s.Evidence(ex, "deprecated operation")}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(o)})
	}
	return nil
}

var variationLeaves = []string{"export", "all", "search", "internal"}

var hasExt = regexp.MustCompile(`\.[A-Za-z0-9]{2,5}$`)

// undocumented tries variations of documented collections and the built-in path list.
func (f *Family) undocumented(ctx context.Context, s *check.Scan) error {
	if s.Spec == nil {
		return nil // without a spec every endpoint is undocumented
	}
	cands := map[string]bool{}
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet || strings.Contains(o.Path, "{") || hasExt.MatchString(o.Path) || o.Class&plan.ServiceAction != 0 {
			continue
		}
		for _, leaf := range variationLeaves {
			cands[strings.TrimSuffix(o.Path, "/")+"/"+leaf] = true
		}
	}
	for _, p := range []string{"/users", "/accounts", "/customers", "/export", "/backup", "/admin/users", "/internal", "/private"} {
		for _, pre := range prefixes(s) {
			cands[pre+p] = true
		}
	}
	keys := make([]string, 0, len(cands))
	for k := range cands {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 160 {
		keys = keys[:160]
	}
	user := firstUser(s)
	for _, rel := range keys {
		if s.Plan.Find(http.MethodGet, rel) != nil {
			continue
		}
		req := anonGet(s, rel)
		ex, err := get(ctx, s, req)
		if err != nil {
			return err
		}
		anonOK, err := live(ctx, s, ex)
		if err != nil {
			return err
		}
		if !anonOK && user != nil {
			req = anonGet(s, rel)
			req.Identity = user
			if ex, err = get(ctx, s, req); err != nil {
				return err
			}
		}
		ok, err := live(ctx, s, ex)
		if err != nil {
			return err
		}
		if !ok || compare.IsErrorBody(ex.Body) {
			continue
		}
		if _, _, isDebug := classifyDebug(ex.Body); isDebug {
			continue // a debug endpoint is the debug rule's
		}
		sev := check.Low
		detail := rel + " answers but is not in the spec."
		if anonOK {
			sev = check.Medium
			detail = rel + " answers anonymous callers with data but is not in the spec."
		}
		s.Report(check.Finding{Rule: RuleUndocumented, Severity: sev, Confidence: check.Confirmed, Method: http.MethodGet, Path: rel,
			Identity: ex.Identity, Detail: detail, Evidence: []check.Evidence{s.Evidence(ex, "undocumented endpoint")}, Curl: s.Curl(ex)})
	}
	return nil
}

var hiddenParams = []string{"debug", "admin", "internal", "test", "preview", "unreleased", "all", "verbose", "show_hidden", "include_deleted", "raw", "dev"}

// hidden adds debug and admin switches to readable GET operations: all of them
// at once first, one by one only when that changes the answer.
func (f *Family) hidden(ctx context.Context, s *check.Scan) error {
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet || o.Class&plan.ServiceAction != 0 {
			continue
		}
		id, base, err := readable(ctx, s, o)
		if err != nil {
			return err
		}
		if base == nil {
			continue
		}
		with := func(params []string) (*probe.Exchange, error) {
			req := s.Plan.Request(o, id)
			u, _ := url.Parse(req.URL)
			q := u.Query()
			for _, p := range params {
				q.Set(p, "true")
			}
			u.RawQuery = q.Encode()
			req.URL = u.String()
			return get(ctx, s, req)
		}
		var cands []string
		for _, p := range hiddenParams {
			if o.Spec == nil || o.Spec.Param("query", p) == nil {
				cands = append(cands, p)
			}
		}
		all, err := with(cands)
		if err != nil {
			return err
		}
		if ok, _ := live(ctx, s, all); !ok || len(newKeys(base.Body, all.Body)) == 0 {
			continue
		}
		again, err := get(ctx, s, s.Plan.Request(o, id))
		if err != nil {
			return err
		}
		if again == nil || compare.Similarity(again.Body, base.Body) < 0.98 {
			continue // the answer changes by itself: no stable reference
		}
		for _, p := range cands {
			ex, err := with([]string{p})
			if err != nil {
				return err
			}
			if ok, _ := live(ctx, s, ex); !ok {
				continue
			}
			extra := newKeys(base.Body, ex.Body)
			if compare.Similarity(ex.Body, base.Body) >= 0.9 || len(ex.Body) <= len(base.Body) || len(extra) == 0 {
				continue
			}
			sev := check.Medium
			if o.Spec != nil {
				sev = check.High
			}
			s.Report(check.Finding{Rule: RuleHiddenParameter, Severity: sev, Confidence: check.Confirmed, Method: o.Method, Path: o.Path,
				Parameter: &check.Param{In: "query", Name: p}, Identity: ex.Identity,
				Detail:   fmt.Sprintf("Adding %s=true changes the answer and reveals %s.", p, strings.Join(extra, ", ")),
				Evidence: []check.Evidence{s.Evidence(ex, "with "+p+"=true"), s.Evidence(base, "without")}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(o)})
			break
		}
	}
	return nil
}

// newKeys lists JSON leaf paths (without array indexes) present in b but not in a.
func newKeys(a, b []byte) []string {
	norm := func(m map[string]string) map[string]bool {
		out := map[string]bool{}
		for k := range m {
			out[regexp.MustCompile(`\[\d+\]`).ReplaceAllString(k, "[]")] = true
		}
		return out
	}
	la, lb := compare.Leaves(a), compare.Leaves(b)
	if la == nil || lb == nil {
		return nil
	}
	ka, kb := norm(la), norm(lb)
	var out []string
	for k := range kb {
		if !ka[k] {
			out = append(out, strings.TrimPrefix(k, "."))
		}
	}
	sort.Strings(out)
	if len(out) > 6 {
		out = append(out[:6], "…")
	}
	return out
}

var _ check.Check = (*Family)(nil)
