package plan

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

// Operation is one method on one path template that the scan tests.
type Operation struct {
	Method string
	Path   string
	// Spec is the documented operation; nil for discovered endpoints.
	Spec  *spec.Operation
	Class Class
}

// Key is "METHOD path".
func (o *Operation) Key() string { return o.Method + " " + o.Path }

// Documented reports whether the operation comes from the spec.
func (o *Operation) Documented() bool { return o.Spec != nil }

// Secured reports whether the spec says the operation needs credentials.
func (o *Operation) Secured() bool { return o.Spec != nil && o.Spec.Secured() }

// Skipped is an operation the plan will not test, with the reason.
type Skipped struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Options shape a plan.
type Options struct {
	// Base is the URL operations' paths are appended to.
	Base *url.URL
	// Include and Exclude are path globs, tag:NAME or op:operationId.
	Include, Exclude []string
	Seed             uint64
}

// Plan is the list of operations to test and how to call them.
type Plan struct {
	Base       *url.URL
	Spec       *spec.Spec
	Operations []*Operation
	Skipped    []Skipped
	IDs        *IDPool

	include, exclude []matcher
	seed             uint64
	byPath           []*Operation // all classified operations, skipped ones too, for Permission
}

type matcher func(*Operation) bool

func compileMatchers(list []string) ([]matcher, error) {
	var out []matcher
	for _, raw := range list {
		v := strings.TrimSpace(raw)
		switch {
		case strings.HasPrefix(v, "tag:"):
			tag := strings.TrimPrefix(v, "tag:")
			out = append(out, func(o *Operation) bool {
				if o.Spec == nil {
					return false
				}
				for _, t := range o.Spec.Tags {
					if strings.EqualFold(t, tag) {
						return true
					}
				}
				return false
			})
		case strings.HasPrefix(v, "op:"):
			id := strings.TrimPrefix(v, "op:")
			out = append(out, func(o *Operation) bool { return o.Spec != nil && o.Spec.OperationID == id })
		case v == "":
			return nil, fmt.Errorf("empty --include/--exclude value")
		default:
			re, err := globRegexp(v)
			if err != nil {
				return nil, err
			}
			out = append(out, func(o *Operation) bool { return re.MatchString(o.Path) })
		}
	}
	return out, nil
}

// globRegexp: "*" matches anything except "/", "**" matches anything.
func globRegexp(g string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch {
		case strings.HasPrefix(g[i:], "**"):
			b.WriteString(".*")
			i++
		case g[i] == '*':
			b.WriteString("[^/]*")
		case g[i] == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(g[i])))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("bad path glob %q: %w", g, err)
	}
	return re, nil
}

func anyMatch(ms []matcher, o *Operation) bool {
	for _, m := range ms {
		if m(o) {
			return true
		}
	}
	return false
}

// Build makes a plan from a spec's operations.
func Build(s *spec.Spec, opts Options) (*Plan, error) {
	var ops []*Operation
	for _, so := range s.Operations {
		ops = append(ops, &Operation{Method: so.Method, Path: so.Path, Spec: so, Class: Classify(so)})
	}
	p, err := newPlan(ops, opts)
	if err != nil {
		return nil, err
	}
	p.Spec = s
	return p, nil
}

// FromEndpoints makes a plan from discovered endpoints (no spec).
func FromEndpoints(endpoints []Operation, opts Options) (*Plan, error) {
	var ops []*Operation
	for _, e := range endpoints {
		e := e
		e.Class = Classify(&spec.Operation{Method: e.Method, Path: e.Path})
		ops = append(ops, &e)
	}
	return newPlan(ops, opts)
}

func newPlan(ops []*Operation, opts Options) (*Plan, error) {
	inc, err := compileMatchers(opts.Include)
	if err != nil {
		return nil, err
	}
	exc, err := compileMatchers(opts.Exclude)
	if err != nil {
		return nil, err
	}
	p := &Plan{Base: opts.Base, include: inc, exclude: exc, seed: opts.Seed, IDs: NewIDPool()}
	sort.SliceStable(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return methodOrder(ops[i].Method) < methodOrder(ops[j].Method)
	})
	for _, o := range ops {
		p.byPath = append(p.byPath, o)
		switch {
		case anyMatch(exc, o):
			p.Skipped = append(p.Skipped, Skipped{o.Method, o.Path, "excluded by --exclude"})
		case len(inc) > 0 && !anyMatch(inc, o):
			p.Skipped = append(p.Skipped, Skipped{o.Method, o.Path, "not matched by --include"})
		case o.Class.Has(ServiceAction) && !anyMatch(inc, o):
			p.Skipped = append(p.Skipped, Skipped{o.Method, o.Path, "name says it changes state service-wide (name it with --include to test it)"})
		default:
			p.Operations = append(p.Operations, o)
		}
	}
	return p, nil
}

func methodOrder(m string) int {
	for i, x := range []string{"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"} {
		if x == m {
			return i
		}
	}
	return 99
}

// RelPath strips the plan's base path from a URL path; ok is false when the URL is not under it.
func (p *Plan) RelPath(u *url.URL) (string, bool) {
	base := strings.TrimSuffix(p.Base.Path, "/")
	path := u.Path
	if base == "" {
		return path, true
	}
	if path == base {
		return "/", true
	}
	if strings.HasPrefix(path, base+"/") {
		return strings.TrimPrefix(path, base), true
	}
	return path, false
}

// MatchTemplate reports whether a concrete path fits a path template.
func MatchTemplate(template, path string) bool {
	ts := strings.Split(strings.Trim(template, "/"), "/")
	ps := strings.Split(strings.Trim(path, "/"), "/")
	if len(ts) != len(ps) {
		return false
	}
	for i, t := range ts {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if ps[i] == "" {
				return false
			}
			continue
		}
		if t != ps[i] {
			return false
		}
	}
	return true
}

// Find returns the operation (tested or skipped) for a method and concrete path
// relative to the base; for a path that matches several templates, the most static wins.
func (p *Plan) Find(method, relPath string) *Operation {
	var best *Operation
	bestScore := -1
	for _, o := range p.byPath {
		if o.Method != method || !MatchTemplate(o.Path, relPath) {
			continue
		}
		if sc := strings.Count(o.Path, "/") - strings.Count(o.Path, "{"); sc > bestScore {
			best, bestScore = o, sc
		}
	}
	return best
}

// Permission implements probe.Classifier: what the safety table allows for a request.
func (p *Plan) Permission(method string, u *url.URL) probe.Permission {
	rel, _ := p.RelPath(u)
	op := p.Find(method, rel)
	cls := Class(0)
	if op != nil {
		cls = op.Class
	} else {
		// Not in the plan: classify the path itself, so an undocumented /reset is never sent.
		cls = Classify(&spec.Operation{Method: method, Path: rel})
		if any := p.anyMethod(rel); any != nil && any.Class.Has(ServiceAction) {
			cls |= ServiceAction
		}
	}
	if cls.Has(ServiceAction) && !(op != nil && anyMatch(p.include, op)) {
		return probe.PermitNever
	}
	if method == http.MethodPost {
		if cls.Has(LLMSpec) {
			return probe.PermitAlways
		}
		if cls.Has(LLMPath) {
			return probe.PermitActive
		}
	}
	return probe.PermitDefault
}

func (p *Plan) anyMethod(rel string) *Operation {
	for _, o := range p.byPath {
		if MatchTemplate(o.Path, rel) {
			return o
		}
	}
	return nil
}

// Sampler returns a sampler seeded for one operation, so values do not depend on order.
func (p *Plan) Sampler(o *Operation) *Sampler {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d %s", p.seed, o.Key())
	return NewSampler(h.Sum64())
}

// URL joins the base URL with a concrete relative path and query.
func (p *Plan) URL(relPath string, q url.Values) string {
	u := *p.Base
	u.Path = strings.TrimSuffix(p.Base.Path, "/") + relPath
	u.RawPath = ""
	u.RawQuery = q.Encode()
	return u.String()
}

// PathParams fills a template's parameters: harvested IDs for the identity first,
// then examples, then schema samples.
func (p *Plan) PathParams(o *Operation, id *identity.Identity) map[string]string {
	s := p.Sampler(o)
	out := map[string]string{}
	for _, name := range TemplateParams(o.Path) {
		var sp *spec.Parameter
		if o.Spec != nil {
			sp = o.Spec.Param("path", name)
		}
		if TenantParam(name) {
			if v, ok := TenantValue(id, sp); ok {
				out[name] = v
				continue
			}
		}
		if v, ok := p.IDs.Lookup(id, o.Path, name); ok {
			out[name] = v
			continue
		}
		if sp != nil {
			out[name] = s.ParamValue(sp)
		} else {
			out[name] = s.scalar(nil, name)
		}
	}
	return out
}

// TemplateParams lists the {names} in a path template, in order.
func TemplateParams(template string) []string {
	var out []string
	for _, seg := range strings.Split(template, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, seg[1:len(seg)-1])
		}
	}
	return out
}

// Expand substitutes path parameters into a template (values are path-escaped).
func Expand(template string, values map[string]string) string {
	segs := strings.Split(template, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if v, ok := values[seg[1:len(seg)-1]]; ok {
				segs[i] = url.PathEscape(v)
			}
		}
	}
	return strings.Join(segs, "/")
}

// Request builds the operation's sample request for an identity (nil for anonymous).
// Required query and header parameters get sample values; bodies are JSON from the schema.
func (p *Plan) Request(o *Operation, id *identity.Identity) *probe.Request {
	s := p.Sampler(o)
	rel := Expand(o.Path, p.PathParams(o, id))
	q := url.Values{}
	h := http.Header{}
	h.Set("Accept", "application/json, */*;q=0.5")
	var body []byte
	if o.Spec != nil {
		for _, prm := range o.Spec.Parameters {
			if !prm.Required || prm.In == "path" {
				continue
			}
			v := s.ParamValue(prm)
			if TenantParam(prm.Name) {
				if tv, ok := TenantValue(id, prm); ok {
					v = tv
				}
			}
			switch prm.In {
			case "query":
				q.Set(prm.Name, v)
			case "header":
				if !probe.IsCredentialHeader(prm.Name) {
					h.Set(prm.Name, v)
				}
			}
		}
		if rb := o.Spec.RequestBody; rb != nil && o.Method != http.MethodGet {
			if mt := spec.JSONMediaType(rb.Content); mt != nil {
				var v any
				if mt.HasExample {
					v = mt.Example
				} else {
					v = s.Value(mt.Schema, "")
				}
				if b, err := json.Marshal(v); err == nil {
					body = b
					h.Set("Content-Type", "application/json")
				}
			}
		}
	}
	req := &probe.Request{Method: o.Method, URL: p.URL(rel, q), Header: h, Body: body}
	if id != nil && !id.IsAnonymous() {
		req.Identity = id
	}
	return req
}
