package spec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// MaxSpecBytes caps how much of a spec document (or a referenced file) is read.
const MaxSpecBytes = 32 << 20

// Error is a spec that cannot be used: it names the file, the location when known, and the problem.
type Error struct {
	File    string
	Line    int
	Problem string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("spec %s:%d: %s", e.File, e.Line, e.Problem)
	}
	return fmt.Sprintf("spec %s: %s", e.File, e.Problem)
}

// Options controls loading.
type Options struct {
	// HTTPClient fetches specs given by URL (and their sibling $refs). Required for URLs.
	HTTPClient *http.Client
}

// Load reads a spec from a file path or an http(s) URL.
func Load(ctx context.Context, source string, opts Options) (*Spec, error) {
	if u, err := url.Parse(source); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		data, err := fetch(ctx, opts.HTTPClient, u)
		if err != nil {
			return nil, &Error{File: source, Problem: err.Error()}
		}
		return parse(ctx, data, source, u, remoteReader(ctx, opts.HTTPClient, u))
	}
	data, err := readCapped(source)
	if err != nil {
		return nil, &Error{File: source, Problem: err.Error()}
	}
	abs, err := filepath.Abs(source)
	if err != nil {
		return nil, &Error{File: source, Problem: err.Error()}
	}
	loc := &url.URL{Path: filepath.ToSlash(abs)}
	return parse(ctx, data, source, loc, localReader(filepath.Dir(abs)))
}

// Parse reads a spec from bytes; $refs to other files are refused.
func Parse(ctx context.Context, data []byte, name string) (*Spec, error) {
	return parse(ctx, data, name, &url.URL{Path: "/" + path.Base(name)}, func(*openapi3.Loader, *url.URL) ([]byte, error) {
		return nil, errors.New("external $ref not allowed for this spec")
	})
}

func readCapped(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSpecBytes+1))
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if len(data) > MaxSpecBytes {
		return nil, fmt.Errorf("larger than %d MiB", MaxSpecBytes>>20)
	}
	return data, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func fetch(ctx context.Context, c *http.Client, u *url.URL) ([]byte, error) {
	if c == nil {
		return nil, errors.New("no HTTP client for spec URLs")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch: HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if len(data) > MaxSpecBytes {
		return nil, fmt.Errorf("larger than %d MiB", MaxSpecBytes>>20)
	}
	return data, nil
}

// localReader allows $refs only to files under root, never to URLs.
func localReader(root string) openapi3.ReadFromURIFunc {
	return func(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
		if u.Scheme != "" || u.Host != "" {
			return nil, fmt.Errorf("remote $ref %s not allowed from a local spec", u.Redacted())
		}
		p := filepath.Clean(filepath.FromSlash(u.Path))
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("$ref %s is outside the spec's folder", u.Path)
		}
		return readCapped(p)
	}
}

// remoteReader allows $refs only within the spec URL's directory.
func remoteReader(ctx context.Context, c *http.Client, base *url.URL) openapi3.ReadFromURIFunc {
	dir := base.Scheme + "://" + base.Host + path.Dir(base.Path)
	if !strings.HasSuffix(dir, "/") {
		dir += "/"
	}
	return func(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
		if u.Scheme == "" && u.Host == "" {
			u = base.ResolveReference(u)
		}
		clean := *u
		clean.Path = path.Clean(u.Path)
		if clean.Scheme+"://"+clean.Host+clean.Path == "" || !strings.HasPrefix(clean.Scheme+"://"+clean.Host+clean.Path, dir) {
			return nil, fmt.Errorf("$ref %s is outside the spec's directory", u.Redacted())
		}
		return fetch(ctx, c, &clean)
	}
}

var lineRe = regexp.MustCompile(`line (\d+)`)

func parseErrData(name string, data []byte, err error) error {
	e := parseErr(name, err).(*Error)
	if e.Line > 0 {
		lines := strings.Split(string(data), "\n")
		if e.Line <= len(lines) && strings.Contains(lines[e.Line-1], "\t") {
			e.Problem += " (a tab character: YAML indents with spaces)"
		}
	}
	return e
}

func parseErr(name string, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "failed to unmarshal data: ")
	line := 0
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	// keep the message on one line
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return &Error{File: name, Line: line, Problem: msg}
}

type versionProbe struct {
	OpenAPI string `json:"openapi" yaml:"openapi"`
	Swagger string `json:"swagger" yaml:"swagger"`
}

func parse(ctx context.Context, data []byte, name string, loc *url.URL, reader openapi3.ReadFromURIFunc) (spec *Spec, err error) {
	defer func() {
		// The OpenAPI library is not ours: a panic on hostile input becomes an error.
		if r := recover(); r != nil {
			spec, err = nil, &Error{File: name, Problem: fmt.Sprintf("cannot be parsed (%v)", r)}
		}
	}()
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{File: name, Problem: "empty document"}
	}
	version, err := detectVersion(data)
	if err != nil {
		return nil, parseErrData(name, data, err)
	}
	loader := openapi3.NewLoader()
	loader.Context = ctx
	loader.IsExternalRefsAllowed = true
	loader.IncludeOrigin = true
	loader.ReadFromURIFunc = reader

	var doc *openapi3.T
	switch {
	case strings.HasPrefix(version.Swagger, "2"):
		var doc2 openapi2.T
		if err := openapi2.UnmarshalFromData(data, &doc2); err != nil {
			return nil, parseErr(name, err)
		}
		doc, err = openapi2conv.ToV3(&doc2)
		if err != nil {
			return nil, parseErr(name, err)
		}
		if err := loader.ResolveRefsIn(doc, loc); err != nil {
			return nil, parseErr(name, err)
		}
	case strings.HasPrefix(version.OpenAPI, "3."):
		doc, err = loader.LoadFromDataWithPath(data, loc)
		if err != nil {
			return nil, parseErr(name, err)
		}
	case version.OpenAPI != "":
		return nil, &Error{File: name, Problem: fmt.Sprintf("unsupported openapi version %q (want 3.0, 3.1 or swagger 2.0)", version.OpenAPI)}
	case version.Swagger != "":
		return nil, &Error{File: name, Problem: fmt.Sprintf("unsupported swagger version %q (want 2.0)", version.Swagger)}
	default:
		return nil, &Error{File: name, Problem: "not an OpenAPI or Swagger document (no openapi or swagger key)"}
	}
	if doc.Paths == nil || doc.Paths.Len() == 0 {
		return nil, &Error{File: name, Problem: "no paths"}
	}
	sum := sha256.Sum256(data)
	s := &Spec{
		Source:          name,
		SHA256:          hex.EncodeToString(sum[:]),
		Version:         firstNonEmpty(version.OpenAPI, version.Swagger),
		SecuritySchemes: map[string]*SecurityScheme{},
	}
	c := &converter{schemas: map[*openapi3.Schema]*Schema{}, file: name}
	c.convertDoc(doc, s)
	return s, nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func detectVersion(data []byte) (versionProbe, error) {
	var v versionProbe
	if err := unmarshalAny(data, &v); err != nil {
		return v, err
	}
	return v, nil
}

// converter turns the library's model into ours, keeping shared and cyclic schemas shared.
type converter struct {
	schemas map[*openapi3.Schema]*Schema
	file    string
}

func (c *converter) convertDoc(doc *openapi3.T, s *Spec) {
	if doc.Info != nil {
		s.Title = doc.Info.Title
	}
	for _, srv := range doc.Servers {
		if srv == nil {
			continue
		}
		u := srv.URL
		for name, v := range srv.Variables {
			if v != nil {
				u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
			}
		}
		s.Servers = append(s.Servers, u)
	}
	if doc.Components != nil {
		for name, ref := range doc.Components.SecuritySchemes {
			if ref == nil || ref.Value == nil {
				continue
			}
			v := ref.Value
			s.SecuritySchemes[name] = &SecurityScheme{Name: name, Type: v.Type, Scheme: strings.ToLower(v.Scheme), In: v.In, Param: v.Name}
		}
	}
	paths := doc.Paths.Map()
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	methods := []string{"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE"}
	for _, p := range keys {
		item := paths[p]
		if item == nil {
			continue
		}
		for _, m := range methods {
			op := item.GetOperation(m)
			if op == nil {
				continue
			}
			s.Operations = append(s.Operations, c.convertOp(doc, p, m, item, op))
		}
	}
}

func (c *converter) convertOp(doc *openapi3.T, p, method string, item *openapi3.PathItem, op *openapi3.Operation) *Operation {
	o := &Operation{
		Method: method, Path: p, OperationID: op.OperationID, Summary: op.Summary,
		Description: op.Description, Tags: op.Tags, Deprecated: op.Deprecated,
		Responses: map[string]*Response{},
		Location:  Location{File: c.file},
	}
	if op.Origin != nil && op.Origin.Key != nil {
		o.Location.Line = op.Origin.Key.Line
		if f := op.Origin.Key.File; f != "" && !strings.HasPrefix(f, "/") {
			o.Location.File = f
		}
	}
	seen := map[string]bool{}
	for _, ref := range op.Parameters {
		if pr := c.convertParam(ref); pr != nil {
			seen[pr.In+":"+pr.Name] = true
			o.Parameters = append(o.Parameters, pr)
		}
	}
	for _, ref := range item.Parameters {
		if pr := c.convertParam(ref); pr != nil && !seen[pr.In+":"+pr.Name] {
			o.Parameters = append(o.Parameters, pr)
		}
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		rb := op.RequestBody.Value
		o.RequestBody = &RequestBody{Required: rb.Required, Content: c.convertContent(rb.Content)}
	}
	if op.Responses != nil {
		for code, ref := range op.Responses.Map() {
			if ref == nil || ref.Value == nil {
				continue
			}
			r := &Response{Content: c.convertContent(ref.Value.Content)}
			if ref.Value.Description != nil {
				r.Description = *ref.Value.Description
			}
			o.Responses[code] = r
		}
	}
	sec := doc.Security
	if op.Security != nil {
		sec = *op.Security
	}
	for _, req := range sec {
		alt := SecurityRequirement{}
		for k, v := range req {
			alt[k] = v
		}
		o.Security = append(o.Security, alt)
	}
	return o
}

func (c *converter) convertParam(ref *openapi3.ParameterRef) *Parameter {
	if ref == nil || ref.Value == nil {
		return nil
	}
	v := ref.Value
	p := &Parameter{Name: v.Name, In: v.In, Required: v.Required || v.In == "path", Deprecated: v.Deprecated}
	if v.Schema != nil {
		p.Schema = c.schema(v.Schema)
	} else if mt := v.Content.Get("application/json"); mt != nil && mt.Schema != nil {
		p.Schema = c.schema(mt.Schema)
	}
	if v.Example != nil {
		p.Example, p.HasExample = v.Example, true
	} else {
		for _, k := range sortedKeys(v.Examples) {
			if ex := v.Examples[k]; ex != nil && ex.Value != nil && ex.Value.Value != nil {
				p.Example, p.HasExample = ex.Value.Value, true
				break
			}
		}
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (c *converter) convertContent(content openapi3.Content) map[string]*MediaType {
	if len(content) == 0 {
		return nil
	}
	out := map[string]*MediaType{}
	for ct, mt := range content {
		if mt == nil {
			continue
		}
		m := &MediaType{}
		if mt.Schema != nil {
			m.Schema = c.schema(mt.Schema)
		}
		if mt.Example != nil {
			m.Example, m.HasExample = mt.Example, true
		} else {
			for _, k := range sortedKeys(mt.Examples) {
				if ex := mt.Examples[k]; ex != nil && ex.Value != nil && ex.Value.Value != nil {
					m.Example, m.HasExample = ex.Value.Value, true
					break
				}
			}
		}
		out[strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))] = m
	}
	return out
}

func (c *converter) schema(ref *openapi3.SchemaRef) *Schema {
	if ref == nil || ref.Value == nil {
		return nil
	}
	v := ref.Value
	if s, ok := c.schemas[v]; ok {
		return s
	}
	s := &Schema{Ref: ref.Ref}
	c.schemas[v] = s
	if v.Type != nil {
		s.Types = append(s.Types, v.Type.Slice()...)
	}
	if v.Nullable && !s.Is("null") {
		s.Nullable = true
	}
	if s.Is("null") {
		s.Nullable = true
	}
	s.Format, s.Pattern, s.Description = v.Format, v.Pattern, v.Description
	s.ReadOnly, s.WriteOnly = v.ReadOnly, v.WriteOnly
	s.Enum = v.Enum
	if v.Default != nil {
		s.Default, s.HasDefault = v.Default, true
	}
	if v.Example != nil {
		s.Example, s.HasExample = v.Example, true
	} else if len(v.Examples) > 0 && v.Examples[0] != nil {
		s.Example, s.HasExample = v.Examples[0], true
	}
	s.Minimum, s.Maximum = v.Min, v.Max
	s.MinLength, s.MaxLength = v.MinLength, v.MaxLength
	s.Required = v.Required
	if len(v.Properties) > 0 {
		s.Properties = map[string]*Schema{}
		for name, p := range v.Properties {
			s.Properties[name] = c.schema(p)
		}
	}
	s.Items = c.schema(v.Items)
	s.AdditionalPropertiesAllowed = true
	if v.AdditionalProperties.Has != nil && !*v.AdditionalProperties.Has {
		s.AdditionalPropertiesAllowed = false
	}
	s.AdditionalProperties = c.schema(v.AdditionalProperties.Schema)
	for _, x := range v.AllOf {
		s.AllOf = append(s.AllOf, c.schema(x))
	}
	for _, x := range v.OneOf {
		s.OneOf = append(s.OneOf, c.schema(x))
	}
	for _, x := range v.AnyOf {
		s.AnyOf = append(s.AnyOf, c.schema(x))
	}
	return s
}
