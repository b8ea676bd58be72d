// Package spec loads OpenAPI 3.0/3.1 and Swagger 2.0 documents into Rampart's
// own small model. It is the only package that imports the OpenAPI library.
package spec

import "strings"

// Spec is a loaded API description.
type Spec struct {
	// Source is the file path or URL the spec came from.
	Source string
	// SHA256 is the hex digest of the root document's bytes.
	SHA256 string
	// Version is the document's openapi or swagger version string.
	Version string
	Title   string
	// Servers are absolute or relative server URLs, in document order.
	Servers []string
	// Operations are sorted by path, then method.
	Operations      []*Operation
	SecuritySchemes map[string]*SecurityScheme
}

// SecurityScheme is a declared way to authenticate.
type SecurityScheme struct {
	Name   string
	Type   string // apiKey, http, oauth2, openIdConnect, mutualTLS
	Scheme string // for http: bearer, basic
	In     string // for apiKey: header, query, cookie
	Param  string // for apiKey: the header, query or cookie name
}

// SecurityRequirement is one alternative of an operation's security: scheme name to scopes.
type SecurityRequirement map[string][]string

// Operation is one method on one path.
type Operation struct {
	Method      string
	Path        string
	OperationID string
	Summary     string
	Description string
	Tags        []string
	Parameters  []*Parameter
	RequestBody *RequestBody
	// Responses maps a status code ("200", "4XX", "default") to its response.
	Responses map[string]*Response
	// Security lists the alternatives; an empty list means the operation is public.
	Security   []SecurityRequirement
	Deprecated bool
	Location   Location
}

// Secured reports whether the operation requires credentials: some alternative
// names at least one scheme.
func (o *Operation) Secured() bool {
	for _, alt := range o.Security {
		if len(alt) == 0 {
			return false
		}
	}
	return len(o.Security) > 0
}

// Scopes returns every scope any security alternative asks for.
func (o *Operation) Scopes() []string {
	var out []string
	for _, alt := range o.Security {
		for _, scopes := range alt {
			out = append(out, scopes...)
		}
	}
	return out
}

// Param finds a parameter by location and name.
func (o *Operation) Param(in, name string) *Parameter {
	for _, p := range o.Parameters {
		if p.In == in && p.Name == name {
			return p
		}
	}
	return nil
}

// Location is a place in a spec file.
type Location struct {
	File string
	Line int
}

// Parameter is a path, query, header or cookie parameter.
type Parameter struct {
	Name       string
	In         string // path, query, header, cookie
	Required   bool
	Deprecated bool
	Schema     *Schema
	Example    any
	HasExample bool
}

// RequestBody is an operation's body, by media type.
type RequestBody struct {
	Required bool
	Content  map[string]*MediaType
}

// Response is a documented response.
type Response struct {
	Description string
	Content     map[string]*MediaType
}

// MediaType is a schema and its examples for one content type.
type MediaType struct {
	Schema     *Schema
	Example    any
	HasExample bool
}

// Schema is a JSON Schema subset. Schemas may be cyclic: walk them with a depth bound.
type Schema struct {
	Types      []string // e.g. ["string"], ["string","null"]; empty means any
	Format     string
	Properties map[string]*Schema
	Required   []string
	Items      *Schema
	// AdditionalProperties is the schema for undeclared keys; nil when not given.
	AdditionalProperties *Schema
	// AdditionalPropertiesAllowed is false when the schema forbids undeclared keys.
	AdditionalPropertiesAllowed bool
	AllOf, OneOf, AnyOf         []*Schema
	Enum                        []any
	Default                     any
	HasDefault                  bool
	Example                     any
	HasExample                  bool
	Minimum, Maximum            *float64
	MinLength                   uint64
	MaxLength                   *uint64
	Pattern                     string
	Nullable, ReadOnly          bool
	WriteOnly                   bool
	Description                 string
	// Ref is the $ref the schema was reached through, if any.
	Ref string
}

// Is reports whether the schema declares type t.
func (s *Schema) Is(t string) bool {
	if s == nil {
		return false
	}
	for _, x := range s.Types {
		if x == t {
			return true
		}
	}
	return false
}

// PrimaryType is the first non-null declared type, or "" for any.
func (s *Schema) PrimaryType() string {
	if s == nil {
		return ""
	}
	for _, t := range s.Types {
		if t != "null" {
			return t
		}
	}
	return ""
}

// Declares reports whether the object schema (including allOf/oneOf/anyOf parts)
// declares the property name.
func (s *Schema) Declares(name string) bool {
	return s.declares(name, 0)
}

func (s *Schema) declares(name string, depth int) bool {
	if s == nil || depth > 16 {
		return false
	}
	if _, ok := s.Properties[name]; ok {
		return true
	}
	for _, group := range [][]*Schema{s.AllOf, s.OneOf, s.AnyOf} {
		for _, sub := range group {
			if sub.declares(name, depth+1) {
				return true
			}
		}
	}
	return false
}

// JSONMediaType returns the schema for the first JSON-like content type, or nil.
func JSONMediaType(content map[string]*MediaType) *MediaType {
	var best *MediaType
	bestKey := ""
	for k, m := range content {
		if isJSON(k) && (best == nil || k < bestKey) {
			best, bestKey = m, k
		}
	}
	return best
}

func isJSON(ct string) bool {
	return ct == "*/*" || strings.Contains(ct, "json")
}
