// Package input is the input validation family: CORS trust, path traversal
// confirmed by content, TRACE, SQL and NoSQL injection proven by differentials,
// markup reflected unescaped, and constraints of the spec left unenforced.
package input

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/compare"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

// Family is the input validation family.
type Family struct{}

// New returns a fresh family.
func New() *Family { return &Family{} }

// Meta describes the family.
func (f *Family) Meta() check.Family {
	return check.Family{ID: "input", Category: check.InputValidation, Rules: rules}
}

// Estimate: a dozen requests per parameter, a few per operation.
func (f *Family) Estimate(s *check.Scan) int {
	n := 20
	for _, o := range s.Plan.Operations {
		n += 3
		if o.Spec != nil {
			n += 12 * len(o.Spec.Parameters)
		}
	}
	return n
}

func fatal(err error) bool {
	return errors.Is(err, probe.ErrBudgetExhausted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func do(ctx context.Context, s *check.Scan, req *probe.Request) (*probe.Exchange, error) {
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

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// caller is the identity used for probes: the first user, else anonymous.
func caller(s *check.Scan) *identity.Identity {
	if u := s.Identities.Users(); len(u) > 0 {
		return u[0]
	}
	return nil
}

// readerOf returns an identity whose request to o is a usable 2xx, and that exchange.
func readerOf(ctx context.Context, s *check.Scan, o *plan.Operation) (*identity.Identity, *probe.Exchange, error) {
	for _, id := range append(s.Identities.Users(), nil) {
		ex, err := do(ctx, s, s.Plan.Request(o, id))
		if err != nil {
			return nil, nil, err
		}
		if ex != nil && check.OK(ex.Status) && !s.IsCatchAll(ex) {
			return id, ex, nil
		}
	}
	return nil, nil, nil
}

// Run is the read phase.
func (f *Family) Run(ctx context.Context, s *check.Scan) error {
	for _, step := range []func(context.Context, *check.Scan) error{f.cors, f.trace, f.params} {
		if err := step(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// cors sends a foreign and a null Origin to a few readable operations and one preflight.
func (f *Family) cors(ctx context.Context, s *check.Scan) error {
	if !s.Enabled(RuleCORSReflection) && !s.Enabled(RuleCORSNull) && !s.Enabled(RuleCORSWildcard) {
		return nil
	}
	tested := 0
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet || tested >= 4 {
			continue
		}
		id, _, err := readerOf(ctx, s, o)
		if err != nil {
			return err
		}
		tested++
		evil := "https://rampart-" + randHex(4) + ".example"
		for _, origin := range []string{evil, "null"} {
			req := s.Plan.Request(o, id)
			req.Header.Set("Origin", origin)
			ex, err := do(ctx, s, req)
			if err != nil {
				return err
			}
			f.judgeCORS(s, o, ex, origin, false)
		}
		if tested == 1 {
			req := s.Plan.Request(o, id)
			req.Method, req.Identity = http.MethodOptions, nil
			req.Header.Set("Origin", evil)
			req.Header.Set("Access-Control-Request-Method", http.MethodGet)
			req.Header.Set("Access-Control-Request-Headers", "authorization")
			ex, err := do(ctx, s, req)
			if err != nil {
				return err
			}
			f.judgeCORS(s, o, ex, evil, true)
		}
	}
	return nil
}

func (f *Family) judgeCORS(s *check.Scan, o *plan.Operation, ex *probe.Exchange, origin string, preflight bool) {
	if ex == nil {
		return
	}
	acao := ex.Header.Get("Access-Control-Allow-Origin")
	creds := strings.EqualFold(ex.Header.Get("Access-Control-Allow-Credentials"), "true")
	method := o.Method
	what := "the response"
	if preflight {
		method, what = http.MethodOptions, "the preflight"
	}
	rep := func(rule string, sev check.Severity, detail string) {
		s.Report(check.Finding{Rule: rule, Severity: sev, Confidence: check.Confirmed, Method: method, Path: o.Path,
			Parameter: &check.Param{In: "header", Name: "Origin"}, Identity: ex.Identity, Detail: detail,
			Evidence: []check.Evidence{s.Evidence(ex, "Origin: "+origin)}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(o)})
	}
	switch {
	case origin == "null" && acao == "null":
		sev := check.Medium
		if creds {
			sev = check.High
		}
		rep(RuleCORSNull, sev, fmt.Sprintf("Origin: null is allowed in %s (credentials %t).", what, creds))
	case origin != "null" && acao == origin:
		sev := check.Medium
		if creds {
			sev = check.High
		}
		rep(RuleCORSReflection, sev, fmt.Sprintf("The foreign Origin %s is reflected in Access-Control-Allow-Origin of %s, with Access-Control-Allow-Credentials: %t.", origin, what, creds))
	case acao == "*" && !preflight:
		rep(RuleCORSWildcard, check.Low, "Access-Control-Allow-Origin: * lets every site read this response.")
	}
}

// trace sends TRACE (and TRACK) with a unique header and looks for it in the answer.
func (f *Family) trace(ctx context.Context, s *check.Scan) error {
	if !s.Enabled(RuleDangerousMethods) || len(s.Plan.Operations) == 0 {
		return nil
	}
	o := s.Plan.Operations[0]
	for _, m := range []string{"TRACE", "TRACK"} {
		token := "rampart-" + randHex(6)
		req := s.Plan.Request(o, nil)
		req.Method, req.Body = m, nil
		req.Header.Set("X-Rampart-Trace", token)
		ex, err := do(ctx, s, req)
		if err != nil {
			return err
		}
		if ex == nil || !check.OK(ex.Status) || !strings.Contains(string(ex.Body), token) {
			continue
		}
		s.Report(check.Finding{Rule: RuleDangerousMethods, Severity: check.Medium, Confidence: check.Confirmed, Method: m, Path: o.Path,
			Identity: identity.Anonymous, Detail: m + " is enabled and echoes the request, headers included (cross-site tracing).",
			Evidence: []check.Evidence{s.Evidence(ex, m+" echo")}, Curl: s.Curl(ex)})
		return nil
	}
	return nil
}

// target is one parameter to inject into.
type target struct {
	in, name string
	value    string
	param    *spec.Parameter
}

// targets lists an operation's path and query parameters with their normal values.
func targets(s *check.Scan, o *plan.Operation, id *identity.Identity) []target {
	var out []target
	pv := s.Plan.PathParams(o, id)
	for _, n := range plan.TemplateParams(o.Path) {
		t := target{in: "path", name: n, value: pv[n]}
		if o.Spec != nil {
			t.param = o.Spec.Param("path", n)
		}
		out = append(out, t)
	}
	if o.Spec != nil {
		sampler := s.Plan.Sampler(o)
		for _, p := range o.Spec.Parameters {
			if p.In == "query" {
				out = append(out, target{in: "query", name: p.Name, value: sampler.ParamValue(p), param: p})
			}
		}
	}
	return out
}

// inject builds o's request for id with one parameter set to value (the others normal).
func inject(s *check.Scan, o *plan.Operation, id *identity.Identity, t target, value string) *probe.Request {
	req := s.Plan.Request(o, id)
	u, _ := url.Parse(req.URL)
	switch t.in {
	case "path":
		pv := s.Plan.PathParams(o, id)
		pv[t.name] = value
		u.Path = strings.TrimSuffix(s.Plan.Base.Path, "/") + plan.Expand(o.Path, pv)
		u.RawPath = strings.TrimSuffix(s.Plan.Base.Path, "/") + plan.Expand(o.Path, pv)
		u.Path, _ = url.PathUnescape(u.RawPath)
	case "query":
		q := u.Query()
		q.Set(t.name, value)
		u.RawQuery = q.Encode()
	}
	req.URL = u.String()
	return req
}

// params runs the per-parameter probes on GET operations.
func (f *Family) params(ctx context.Context, s *check.Scan) error {
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet || o.Class&plan.ServiceAction != 0 {
			continue
		}
		id := caller(s)
		rid, base, err := readerOf(ctx, s, o)
		if err != nil {
			return err
		}
		if base != nil {
			id = rid
		}
		for _, t := range targets(s, o, id) {
			if s.Enabled(RuleSQLInjection) {
				if err := f.sqli(ctx, s, o, id, t); err != nil {
					return err
				}
			}
			if s.Enabled(RulePathTraversal) && fileLike(t) {
				if err := f.traversal(ctx, s, o, id, t); err != nil {
					return err
				}
			}
			if t.in == "query" && s.Enabled(RuleReflectedMarkup) {
				if err := f.markup(ctx, s, o, id, t); err != nil {
					return err
				}
			}
			if t.in == "query" && s.Enabled(RuleSchemaNotEnforced) && base != nil {
				if err := f.schema(ctx, s, o, id, t, base); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

var sqlError = regexp.MustCompile(`(?i)(SQLite error|sqlite3\.OperationalError|unrecognized token:|SQLITE_ERROR|You have an error in your SQL syntax|MySQLSyntaxErrorException|check the manual that corresponds to your (MySQL|MariaDB)|PG::SyntaxError|pq: syntax error|ERROR:\s+syntax error at or near|unterminated quoted string|Unclosed quotation mark|Microsoft OLE DB Provider for SQL Server|ORA-\d{5}|SQLSTATE\[\w+\]|syntax error at or near|near ".*": syntax error|quoted string not properly terminated)`)

// sqli: a quote that produces a database error, then boolean pairs that change the result set.
func (f *Family) sqli(ctx context.Context, s *check.Scan, o *plan.Operation, id *identity.Identity, t target) error {
	base, err := do(ctx, s, inject(s, o, id, t, t.value))
	if err != nil || base == nil || check.Inconclusive(base.Status) {
		return err
	}
	quote, err := do(ctx, s, inject(s, o, id, t, t.value+"'"))
	if err != nil || quote == nil {
		return err
	}
	errText := ""
	if m := sqlError.Find(quote.Body); m != nil && !sqlError.Match(base.Body) {
		errText = string(m)
	}
	_, numeric := strconv.ParseFloat(t.value, 64)
	pairs := [][2]string{{"' AND '1'='1", "' AND '1'='2"}, {"' AND '7'='7", "' AND '7'='8"}}
	if numeric == nil {
		pairs = append([][2]string{{" AND 1=1", " AND 1=2"}, {" AND 7=7", " AND 7=8"}}, pairs...)
	}
	agree := 0
	var evT, evF *probe.Exchange
	for _, p := range pairs {
		exT, err := do(ctx, s, inject(s, o, id, t, t.value+p[0]))
		if err != nil {
			return err
		}
		exF, err := do(ctx, s, inject(s, o, id, t, t.value+p[1]))
		if err != nil {
			return err
		}
		if exT == nil || exF == nil || check.Inconclusive(exT.Status) || check.Inconclusive(exF.Status) {
			continue
		}
		sameAsBase := exT.Status == base.Status && compare.Similarity(exT.Body, base.Body) >= 0.95
		differs := exF.Status != exT.Status || compare.Similarity(exF.Body, exT.Body) < 0.9
		if sameAsBase && differs && !sqlError.Match(exF.Body) && check.OK(base.Status) && compare.HasData(base.Body) {
			agree++
			evT, evF = exT, exF
		}
	}
	if errText == "" && agree < 2 {
		return nil
	}
	sev, conf := check.Critical, check.Confirmed
	detail := ""
	ev := []check.Evidence{}
	curl := ""
	switch {
	case agree > 0:
		detail = fmt.Sprintf("A true condition appended to %s %q returns the normal result and a false one changes it: the value is part of an SQL query.", t.in, t.name)
		ev = append(ev, s.Evidence(evT, "true condition"), s.Evidence(evF, "false condition"))
		curl = s.Curl(evF)
		if errText != "" {
			detail += fmt.Sprintf(" A single quote yields a database error (%q).", errText)
			ev = append(ev, s.Evidence(quote, "single quote: database error"))
		}
	default:
		sev, conf = check.High, check.Likely
		detail = fmt.Sprintf("A single quote in %s %q yields a database error (%q) that the normal value does not; the boolean pairs were inconclusive.", t.in, t.name, errText)
		ev = append(ev, s.Evidence(quote, "single quote: database error"), s.Evidence(base, "normal value"))
		curl = s.Curl(quote)
	}
	s.Report(check.Finding{Rule: RuleSQLInjection, Severity: sev, Confidence: conf, Method: o.Method, Path: o.Path,
		Parameter: &check.Param{In: t.in, Name: t.name}, Identity: base.Identity, Detail: detail, Evidence: ev, Curl: curl, SpecLocation: check.SpecLocation(o)})
	return nil
}

var fileName = regexp.MustCompile(`(?i)(file|path|doc|document|template|attachment|download|image|img|page|name|folder|dir|report|asset|resource|key)`)
var hasExt = regexp.MustCompile(`\.[a-z0-9]{2,5}$`)

func fileLike(t target) bool {
	return fileName.MatchString(t.name) || hasExt.MatchString(t.value)
}

var systemFiles = []struct {
	file string
	sig  *regexp.Regexp
}{
	{"etc/passwd", regexp.MustCompile(`root:[x*]?:0:0:`)},
	{"windows/win.ini", regexp.MustCompile(`(?i)\[(fonts|extensions)\]|for 16-bit app support`)},
}

// traversal tries escapes in several encodings, confirmed only by content.
func (f *Family) traversal(ctx context.Context, s *check.Scan, o *plan.Operation, id *identity.Identity, t target) error {
	base, err := do(ctx, s, inject(s, o, id, t, t.value))
	if err != nil {
		return err
	}
	ups := []string{"../", "..%2f", "%2e%2e%2f", "..;/", `..\`, "%c0%ae%c0%ae/"}
	for _, sf := range systemFiles {
		if base != nil && sf.sig.Match(base.Body) {
			continue // the normal answer already matches: no proof possible
		}
		for _, up := range ups {
			payload := strings.Repeat(up, 8) + sf.file
			if t.in == "query" && strings.Contains(up, "%") {
				payload, _ = url.QueryUnescape(payload) // Set encodes once; keep the intended encoding level
			}
			ex, err := do(ctx, s, inject(s, o, id, t, payload))
			if err != nil {
				return err
			}
			if ex == nil || !check.OK(ex.Status) || !sf.sig.Match(ex.Body) {
				continue
			}
			s.Report(check.Finding{Rule: RulePathTraversal, Severity: check.Critical, Confidence: check.Confirmed, Method: o.Method, Path: o.Path,
				Parameter: &check.Param{In: t.in, Name: t.name}, Identity: ex.Identity,
				Detail:   fmt.Sprintf("%s %q = %q reads /%s (its content is in the response).", t.in, t.name, payload, sf.file),
				Evidence: []check.Evidence{s.Evidence(ex, "traversal to /"+sf.file)}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(o)})
			return nil
		}
	}
	return f.crossTenantTraversal(ctx, s, o, id, t, base)
}

// crossTenantTraversal reaches another tenant's file through ../ from one's own folder.
func (f *Family) crossTenantTraversal(ctx context.Context, s *check.Scan, o *plan.Operation, a *identity.Identity, t target, baseA *probe.Exchange) error {
	if a == nil || len(a.Tenants) == 0 {
		return nil
	}
	var tenantParam string
	for _, n := range plan.TemplateParams(o.Path) {
		if plan.TenantParam(n) {
			tenantParam = n
		}
	}
	if tenantParam == "" || t.in != "path" || t.name == tenantParam {
		return nil
	}
	for _, b := range s.Identities.Users() {
		if b == a || len(b.Tenants) == 0 || b.Tenants[0] == a.Tenants[0] {
			continue
		}
		own, err := do(ctx, s, inject(s, o, b, t, s.Plan.PathParams(o, b)[t.name]))
		if err != nil {
			return err
		}
		if own == nil || !check.OK(own.Status) || !compare.HasData(own.Body) {
			continue
		}
		tb := s.Plan.PathParams(o, b)[tenantParam]
		for _, up := range []string{"../", "..%2f", "%2e%2e%2f"} {
			payload := up + tb + "/" + s.Plan.PathParams(o, b)[t.name]
			if strings.Contains(up, "%") {
				payload, _ = url.PathUnescape(payload)
			}
			ex, err := do(ctx, s, inject(s, o, a, t, payload))
			if err != nil {
				return err
			}
			if ex == nil || !check.OK(ex.Status) || compare.Similarity(ex.Body, own.Body) < 0.9 || (baseA != nil && compare.Similarity(ex.Body, baseA.Body) >= 0.9) {
				continue
			}
			s.Report(check.Finding{Rule: RulePathTraversal, Severity: check.Critical, Confidence: check.Confirmed, Method: o.Method, Path: o.Path,
				Parameter: &check.Param{In: t.in, Name: t.name}, Identity: a.Name(),
				Detail:   fmt.Sprintf("%s, inside its own folder, reads %s's file with %q.", a.Name(), b.Name(), payload),
				Evidence: []check.Evidence{s.Evidence(ex, "traversal into another tenant's folder"), s.Evidence(own, b.Name()+"'s own file")}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(o)})
			return nil
		}
	}
	return nil
}

// markup reflects a unique tag through a query parameter and looks for it unescaped in HTML.
func (f *Family) markup(ctx context.Context, s *check.Scan, o *plan.Operation, id *identity.Identity, t target) error {
	tag := "rmp" + randHex(4)
	payload := "<" + tag + " data-r=1>"
	ex, err := do(ctx, s, inject(s, o, id, t, payload))
	if err != nil || ex == nil {
		return err
	}
	if !strings.Contains(strings.ToLower(ex.Header.Get("Content-Type")), "html") || !strings.Contains(string(ex.Body), "<"+tag) {
		return nil
	}
	sev := check.Medium
	if id != nil {
		sev = check.High
	}
	s.Report(check.Finding{Rule: RuleReflectedMarkup, Severity: sev, Confidence: check.Confirmed, Method: o.Method, Path: o.Path,
		Parameter: &check.Param{In: t.in, Name: t.name}, Identity: ex.Identity,
		Detail:   fmt.Sprintf("The markup %q sent in %s %q comes back unescaped in an HTML response.", payload, t.in, t.name),
		Evidence: []check.Evidence{s.Evidence(ex, "reflected markup")}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(o)})
	return nil
}

// schema sends one value the spec forbids per constrained query parameter.
func (f *Family) schema(ctx context.Context, s *check.Scan, o *plan.Operation, id *identity.Identity, t target, base *probe.Exchange) error {
	if t.param == nil || t.param.Schema == nil {
		return nil
	}
	sc := t.param.Schema
	var bad, why string
	switch {
	case len(sc.Enum) > 0:
		bad, why = "rampart-not-in-enum", "a value outside the enum"
	case sc.Maximum != nil && (sc.Is("integer") || sc.Is("number")):
		bad, why = strconv.FormatFloat(*sc.Maximum*10+1000, 'f', 0, 64), "a value above the maximum"
	case sc.Is("integer") || sc.Is("number"):
		bad, why = "rampart", "a string where a number is declared"
	case sc.MaxLength != nil && *sc.MaxLength < 1000:
		bad, why = strings.Repeat("r", int(*sc.MaxLength)+50), "a value over maxLength"
	default:
		return nil
	}
	ex, err := do(ctx, s, inject(s, o, id, t, bad))
	if err != nil || ex == nil {
		return err
	}
	if !check.OK(ex.Status) || compare.IsErrorBody(ex.Body) || !compare.HasData(ex.Body) || s.IsCatchAll(ex) {
		return nil
	}
	s.Report(check.Finding{Rule: RuleSchemaNotEnforced, Severity: check.Low, Confidence: check.Confirmed, Method: o.Method, Path: o.Path,
		Parameter: &check.Param{In: t.in, Name: t.name}, Identity: ex.Identity,
		Detail:   fmt.Sprintf("%s for %s %q (%s) is accepted with %d.", why, t.in, t.name, truncate(bad, 40), ex.Status),
		Evidence: []check.Evidence{s.Evidence(ex, why)}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(o)})
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

var (
	_ check.Check  = (*Family)(nil)
	_ check.Writer = (*Family)(nil)
)
