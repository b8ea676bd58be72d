// Package exposure is the data exposure family. It watches every exchange of
// the scan for secrets, personal data the schema does not declare, stack
// traces, debug pages, internal addresses and version banners; with --active
// it provokes errors with malformed bodies and compares login answers for a
// known and an unknown user. Matched values are redacted in reports.
package exposure

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
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

// Family is the exposure family.
type Family struct {
	mu   sync.Mutex
	seen map[string]bool
}

// New returns a fresh family.
func New() *Family { return &Family{seen: map[string]bool{}} }

// Meta describes the family.
func (f *Family) Meta() check.Family {
	return check.Family{ID: "exposure", Category: check.DataExposure, Rules: rules}
}

// Estimate: mostly passive; a few requests per write operation and login.
func (f *Family) Estimate(s *check.Scan) int { return 20 + 3*len(s.Plan.Operations) }

func (f *Family) once(k string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen[k] {
		return false
	}
	f.seen[k] = true
	return true
}

func fatal(err error) bool {
	return errors.Is(err, probe.ErrBudgetExhausted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Run reads each GET operation as an identity that can read it, and once more
// with an unknown value in its first parameter (an error page, a debugger or a
// trace shows up on such paths); Observe does the judging of every exchange.
func (f *Family) Run(ctx context.Context, s *check.Scan) error {
	ids := append(s.Identities.Users(), s.Identities.Anonymous())
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet {
			continue
		}
		var reader *identity.Identity
		for _, id := range ids {
			ex, err := s.Client.Do(ctx, s.Plan.Request(o, id))
			if err != nil {
				if fatal(err) {
					return err
				}
				continue
			}
			if check.OK(ex.Status) {
				reader = id
				break
			}
		}
		if reader == nil || o.Spec == nil {
			continue
		}
		for _, p := range o.Spec.Parameters {
			if p.In != "query" && p.In != "path" {
				continue
			}
			req := s.Plan.Request(o, reader)
			u, _ := url.Parse(req.URL)
			odd := "rampart-missing-" + randHex(3)
			if p.In == "query" {
				q := u.Query()
				q.Set(p.Name, odd)
				u.RawQuery = q.Encode()
			} else {
				pv := s.Plan.PathParams(o, reader)
				pv[p.Name] = odd
				u.Path = strings.TrimSuffix(s.Plan.Base.Path, "/") + plan.Expand(o.Path, pv)
				u.RawPath = ""
			}
			req.URL = u.String()
			if _, err := s.Client.Do(ctx, req); err != nil && fatal(err) {
				return err
			}
			break
		}
	}
	return nil
}

// Signatures.
var (
	stackSigs = []*regexp.Regexp{
		regexp.MustCompile(`goroutine \d+ \[[a-z ]+\]:`),
		regexp.MustCompile(`(?m)^panic: .+`),
		regexp.MustCompile(`Traceback \(most recent call last\):`),
		regexp.MustCompile(`File "[^"]+\.py", line \d+`),
		regexp.MustCompile(`(?m)^\s+at [a-zA-Z_$][\w$.]*\([\w$]+\.java:\d+\)`),
		regexp.MustCompile(`Exception in thread "`),
		regexp.MustCompile(`(?m)^\s+at .+ \(.+\.[cm]?js:\d+:\d+\)`),
		regexp.MustCompile(`(?m)^\s+at [\w.<>]+\(.*\) in .+\.cs:line \d+`),
		regexp.MustCompile(`\.rb:\d+:in ` + "`"),
		regexp.MustCompile(`(?i)(Fatal error|Stack trace):.+\.php`),
		regexp.MustCompile(`\.go:\d+ \+0x[0-9a-f]+`),
	}
	sqlErrorSigs = regexp.MustCompile(`(?i)(SQLite error|sqlite3\.OperationalError|unrecognized token:|SQLITE_ERROR|You have an error in your SQL syntax|MySQLSyntaxErrorException|check the manual that corresponds to your (MySQL|MariaDB)|PG::SyntaxError|pq: syntax error|ERROR:\s+syntax error at or near|unterminated quoted string at or near|Unclosed quotation mark after the character string|Microsoft OLE DB Provider for SQL Server|ORA-\d{5}|SQLSTATE\[\w+\]|syntax error at or near|near ".+": syntax error)`)
	debugSigs    = regexp.MustCompile(`(?i)(Werkzeug Debugger|The debugger caught an exception|You're seeing this error because you have <code>DEBUG = True</code>|Whoops! There was an error|Ignition\b.*Laravel|Action Controller: Exception caught|symfony-debug-toolbar|sf-toolbar|__webpack_hmr)`)
	secretSigs   = []struct {
		re   *regexp.Regexp
		what string
		sev  check.Severity
	}{
		{regexp.MustCompile(`-----BEGIN (RSA |EC |OPENSSH |DSA |ENCRYPTED )?PRIVATE KEY-----`), "a private key", check.Critical},
		{regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`), "an AWS access key ID", check.Critical},
		{regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36}\b`), "a GitHub token", check.High},
		{regexp.MustCompile(`\bxox[baprs]-[A-Za-z0-9-]{10,}`), "a Slack token", check.High},
		{regexp.MustCompile(`\b(sk|rk)_live_[A-Za-z0-9]{16,}`), "a Stripe live key", check.High},
		{regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`), "a Google API key", check.High},
		{regexp.MustCompile(`\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b`), "a SendGrid key", check.High},
		{regexp.MustCompile(`https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+`), "a Slack webhook URL", check.High},
		{regexp.MustCompile(`\b(postgres(ql)?|mysql|mongodb(\+srv)?|redis|amqp|mssql)://[^\s:/@"']*:[^\s@"']{3,}@[^\s"']+`), "a connection string with a password", check.High},
	}
	cardRe  = regexp.MustCompile(`\b(?:\d[ -]?){13,19}\b`)
	ibanRe  = regexp.MustCompile(`\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b`)
	ssnKey  = regexp.MustCompile(`(?i)"(ssn|social_security(_number)?|national_id|tax_id)"\s*:\s*"(\d{3}-?\d{2}-?\d{4}|[A-Z0-9-]{6,})"`)
	emailRe = regexp.MustCompile(`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b`)
	ipv4Re  = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	hostRe  = regexp.MustCompile(`\b[a-z0-9-]+(\.[a-z0-9-]+)*\.(internal|corp|lan|intranet|local)\b`)
	bannerV = regexp.MustCompile(`\d+\.\d+`)
)

// templ finds the operation template of an exchange (or a templated path).
func templ(s *check.Scan, ex *probe.Exchange) (string, *plan.Operation) {
	rel := s.RelPath(ex)
	if o := s.Plan.Find(ex.Method, rel); o != nil {
		return o.Path, o
	}
	return check.TemplatePath(rel), nil
}

// Observe judges every exchange from the target.
func (f *Family) Observe(s *check.Scan, ex *probe.Exchange) {
	u, err := url.Parse(ex.URL)
	if err != nil || !s.Client.SameOrigin(u) {
		return
	}
	body := ex.Body[:min(len(ex.Body), 512<<10)]
	path, o := templ(s, ex)
	if o == nil && check.OK(ex.Status) && s.IsCatchAll(ex) {
		return
	}
	f.stack(s, ex, path, o, body)
	f.debugMode(s, ex, path, o, body)
	if !check.OK(ex.Status) {
		return
	}
	if o != nil {
		f.banner(s, ex, path) // server-wide headers: judged on documented operations only
	}
	auth := o != nil && o.Class&(plan.Login|plan.OTPCheck) != 0
	if !auth {
		f.secrets(s, ex, path, o, body)
		f.pii(s, ex, path, o, body)
	}
	f.internal(s, ex, path, body)
}

func (f *Family) report(s *check.Scan, rule string, sev check.Severity, ex *probe.Exchange, path string, o *plan.Operation, detail, note string) {
	if !s.Enabled(rule) || !f.once(rule+" "+ex.Method+" "+path) {
		return
	}
	s.Report(check.Finding{Rule: rule, Severity: sev, Confidence: check.Confirmed, Method: ex.Method, Path: path, Identity: ex.Identity,
		Detail: detail, Evidence: []check.Evidence{s.Evidence(ex, note)}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(o)})
}

func (f *Family) stack(s *check.Scan, ex *probe.Exchange, path string, o *plan.Operation, body []byte) {
	for _, re := range stackSigs {
		if m := re.Find(body); m != nil {
			f.report(s, RuleStackTrace, check.Medium, ex, path, o,
				fmt.Sprintf("The response (%d) carries a stack trace (%q…).", ex.Status, truncate(string(m), 60)), "stack trace in the response")
			return
		}
	}
	if m := sqlErrorSigs.Find(body); m != nil {
		f.report(s, RuleStackTrace, check.Low, ex, path, o,
			fmt.Sprintf("The response (%d) carries a database error message (%q).", ex.Status, truncate(string(m), 60)), "database error in the response")
	}
}

func (f *Family) debugMode(s *check.Scan, ex *probe.Exchange, path string, o *plan.Operation, body []byte) {
	if m := debugSigs.Find(body); m != nil {
		f.report(s, RuleDebugMode, check.High, ex, path, o, fmt.Sprintf("A framework debug page answers (%q).", string(m)), "debug page")
	}
}

func (f *Family) banner(s *check.Scan, ex *probe.Exchange, path string) {
	for _, h := range []string{"Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version", "X-Generator"} {
		if v := ex.Header.Get(h); v != "" && bannerV.MatchString(v) {
			if !s.Enabled(RuleVersionBanner) || !f.once(RuleVersionBanner+" "+h+" "+ex.Method+" "+path) {
				continue
			}
			s.Report(check.Finding{Rule: RuleVersionBanner, Severity: check.Low, Confidence: check.Confirmed, Method: ex.Method, Path: path,
				Parameter: &check.Param{In: "header", Name: h}, Identity: ex.Identity, Detail: fmt.Sprintf("%s: %s names the software and its version.", h, v),
				Evidence: []check.Evidence{s.Evidence(ex, "version banner")}, Curl: s.Curl(ex)})
		}
	}
}

// ownSecrets are values the caller may legitimately see: its own credentials.
func ownSecrets(s *check.Scan, ex *probe.Exchange) map[string]bool {
	own := map[string]bool{}
	if id := s.Identities.Get(ex.Identity); id != nil {
		for _, v := range id.Secrets() {
			own[v] = true
		}
	}
	return own
}

func (f *Family) secrets(s *check.Scan, ex *probe.Exchange, path string, o *plan.Operation, body []byte) {
	own := ownSecrets(s, ex)
	for _, sig := range secretSigs {
		for _, m := range sig.re.FindAll(body, 5) {
			if own[string(m)] {
				continue
			}
			s.Client.Redactor().AddSecret(string(m)) // before the evidence is rendered
			f.report(s, RuleSecret, sig.sev, ex, path, o,
				fmt.Sprintf("The response carries %s (%s, redacted).", sig.what, probe.Mask(string(m))), "secret in the response")
			return
		}
	}
}

func luhn(digits string) bool {
	sum, alt := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if alt {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		alt = !alt
	}
	return sum%10 == 0
}

func ibanValid(s string) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	r := s[4:] + s[:4]
	var num strings.Builder
	for _, c := range r {
		switch {
		case c >= '0' && c <= '9':
			num.WriteRune(c)
		case c >= 'A' && c <= 'Z':
			fmt.Fprintf(&num, "%d", c-'A'+10)
		default:
			return false
		}
	}
	rem := 0
	for _, c := range num.String() {
		rem = (rem*10 + int(c-'0')) % 97
	}
	return rem == 1
}

// undeclaredOrUndocumented: the value sits in an undocumented response, or in a field the schema does not declare.
func undeclaredOrUndocumented(o *plan.Operation, ex *probe.Exchange, value string) bool {
	if o == nil || o.Spec == nil {
		return true
	}
	sc := responseSchema(o.Spec, ex.Status)
	if sc == nil {
		return true
	}
	for k, v := range compare.Leaves(ex.Body) {
		if v != value {
			continue
		}
		name := k[strings.LastIndexAny(k, ".]")+1:]
		if !declaredAnywhere(sc, name, 0) {
			return true
		}
	}
	return false
}

func responseSchema(o *spec.Operation, status int) *spec.Schema {
	code := fmt.Sprint(status)
	for _, k := range []string{code, code[:1] + "XX", "default"} {
		if r := o.Responses[k]; r != nil {
			if mt := spec.JSONMediaType(r.Content); mt != nil {
				return mt.Schema
			}
		}
	}
	return nil
}

func declaredAnywhere(sc *spec.Schema, name string, depth int) bool {
	if sc == nil || depth > 10 {
		return false
	}
	if len(sc.Properties) == 0 && len(sc.AllOf)+len(sc.OneOf)+len(sc.AnyOf) == 0 && sc.Items == nil {
		return true // free-form: nothing to compare with
	}
	if sc.Declares(name) {
		return true
	}
	for _, p := range sc.Properties {
		if declaredAnywhere(p, name, depth+1) && p != nil && (len(p.Properties) > 0 || p.Items != nil) {
			return true
		}
	}
	return sc.Items != nil && declaredAnywhere(sc.Items, name, depth+1)
}

func (f *Family) pii(s *check.Scan, ex *probe.Exchange, path string, o *plan.Operation, body []byte) {
	var found []string
	sev := check.Medium
	for _, m := range cardRe.FindAll(body, 20) {
		d := strings.NewReplacer(" ", "", "-", "").Replace(string(m))
		if len(d) >= 13 && len(d) <= 19 && luhn(d) && !allSame(d) && undeclaredOrUndocumented(o, ex, string(m)) {
			found, sev = append(found, "a card number ("+probe.Mask(d)+")"), check.High
			break
		}
	}
	for _, m := range ibanRe.FindAll(body, 20) {
		if ibanValid(string(m)) && undeclaredOrUndocumented(o, ex, string(m)) {
			found = append(found, "an IBAN ("+probe.Mask(string(m))+")")
			break
		}
	}
	if m := ssnKey.FindSubmatch(body); m != nil {
		found, sev = append(found, "a national ID ("+string(m[1])+")"), check.High
	}
	if o == nil {
		emails := map[string]bool{}
		for _, m := range emailRe.FindAll(body, 50) {
			emails[strings.ToLower(string(m))] = true
		}
		if len(emails) >= 3 {
			found = append(found, fmt.Sprintf("%d e-mail addresses", len(emails)))
		}
	}
	if len(found) == 0 {
		return
	}
	sort.Strings(found)
	where := "a field the response schema does not declare"
	if o == nil {
		where = "an undocumented response"
	}
	f.report(s, RulePII, sev, ex, path, o, fmt.Sprintf("The response carries %s in %s.", strings.Join(found, ", "), where), "personal data")
}

func allSame(d string) bool { return strings.Count(d, d[:1]) == len(d) }

func (f *Family) internal(s *check.Scan, ex *probe.Exchange, path string, body []byte) {
	var hits []string
	scan := func(text string) {
		for _, m := range ipv4Re.FindAllString(text, 20) {
			if ip := net.ParseIP(m); ip != nil && ip.IsPrivate() {
				hits = append(hits, m)
			}
		}
		for _, m := range hostRe.FindAllString(text, 5) {
			if !strings.HasSuffix(m, ".invalid") {
				hits = append(hits, m)
			}
		}
	}
	for k, vs := range ex.Header {
		if k == "Date" {
			continue
		}
		for _, v := range vs {
			scan(v)
		}
	}
	scan(string(body[:min(len(body), 128<<10)]))
	if len(hits) == 0 {
		return
	}
	if !s.Enabled(RuleInternalAddress) || !f.once(RuleInternalAddress+" "+ex.Method+" "+path) {
		return
	}
	sort.Strings(hits)
	s.Report(check.Finding{Rule: RuleInternalAddress, Severity: check.Low, Confidence: check.Confirmed, Method: ex.Method, Path: path, Identity: ex.Identity,
		Detail: "The response names internal addresses: " + strings.Join(uniq(hits), ", ") + ".", Evidence: []check.Evidence{s.Evidence(ex, "internal address")}, Curl: s.Curl(ex)})
}

func uniq(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

var (
	_ check.Check    = (*Family)(nil)
	_ check.Observer = (*Family)(nil)
	_ check.Writer   = (*Family)(nil)
)
