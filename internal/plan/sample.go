package plan

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/rampart-scan/rampart/internal/spec"
)

// Sampler makes concrete, deterministic values for schemas.
type Sampler struct {
	rng *rand.Rand
}

// NewSampler returns a sampler seeded for reproducible output.
func NewSampler(seed uint64) *Sampler {
	return &Sampler{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// ParamValue picks a value for a parameter: its example, then the schema's.
func (s *Sampler) ParamValue(p *spec.Parameter) string {
	if p.HasExample {
		if v, ok := scalarString(p.Example); ok {
			return v
		}
	}
	return s.scalar(p.Schema, p.Name)
}

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case bool, int, int64, float64, float32, uint64:
		return fmt.Sprint(x), true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

// scalar renders a schema as a string value for a path, query or header parameter.
func (s *Sampler) scalar(sc *spec.Schema, name string) string {
	v := s.Value(sc, name)
	if str, ok := scalarString(v); ok {
		return str
	}
	if arr, ok := v.([]any); ok && len(arr) > 0 {
		if str, ok := scalarString(arr[0]); ok {
			return str
		}
	}
	return "1"
}

// Value builds a JSON-compatible value from a schema: example, default, enum,
// then format and type. Odd examples (an integer where a string is declared)
// are converted to the declared type.
func (s *Sampler) Value(sc *spec.Schema, name string) any {
	return s.value(sc, name, 0)
}

func (s *Sampler) value(sc *spec.Schema, name string, depth int) any {
	if sc == nil {
		return "test"
	}
	if depth > 6 {
		return nil
	}
	typ := sc.PrimaryType()
	if sc.HasExample {
		if v, ok := coerce(sc.Example, typ); ok {
			return v
		}
	}
	if sc.HasDefault {
		if v, ok := coerce(sc.Default, typ); ok {
			return v
		}
	}
	if len(sc.Enum) > 0 {
		for _, e := range sc.Enum {
			if e != nil {
				return e
			}
		}
	}
	if typ == "" {
		switch {
		case len(sc.Properties) > 0 || len(sc.AllOf) > 0:
			typ = "object"
		case sc.Items != nil:
			typ = "array"
		case len(sc.OneOf) > 0:
			return s.value(sc.OneOf[0], name, depth+1)
		case len(sc.AnyOf) > 0:
			return s.value(sc.AnyOf[0], name, depth+1)
		default:
			typ = "string"
		}
	}
	switch typ {
	case "object":
		obj := map[string]any{}
		s.fill(obj, sc, depth)
		return obj
	case "array":
		if sc.Items == nil {
			return []any{}
		}
		v := s.value(sc.Items, name, depth+1)
		if v == nil {
			return []any{}
		}
		return []any{v}
	case "integer":
		lo, hi := int64(1), int64(100)
		if sc.Minimum != nil {
			lo = int64(*sc.Minimum)
			if hi < lo {
				hi = lo + 100
			}
		}
		if sc.Maximum != nil {
			hi = int64(*sc.Maximum)
			if hi < lo {
				lo = hi
			}
		}
		return lo + s.rng.Int64N(hi-lo+1)
	case "number":
		lo, hi := 1.0, 100.0
		if sc.Minimum != nil {
			lo = *sc.Minimum
			if hi < lo {
				hi = lo + 100
			}
		}
		if sc.Maximum != nil {
			hi = *sc.Maximum
			if hi < lo {
				lo = hi
			}
		}
		return float64(int((lo+s.rng.Float64()*(hi-lo))*100)) / 100
	case "boolean":
		return true
	}
	return s.stringValue(sc, name)
}

func (s *Sampler) fill(obj map[string]any, sc *spec.Schema, depth int) {
	for _, sub := range sc.AllOf {
		if sub != nil && depth < 6 {
			s.fill(obj, sub, depth+1)
		}
	}
	keys := make([]string, 0, len(sc.Properties))
	for k := range sc.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := sc.Properties[k]
		if p != nil && p.ReadOnly {
			continue
		}
		if v := s.value(p, k, depth+1); v != nil {
			obj[k] = v
		}
	}
}

func coerce(v any, typ string) (any, bool) {
	if v == nil {
		return nil, false
	}
	switch typ {
	case "string":
		if str, ok := scalarString(v); ok {
			return str, true
		}
		return nil, false
	case "integer", "number":
		switch x := v.(type) {
		case float64, int, int64:
			return x, true
		case string:
			var f float64
			if _, err := fmt.Sscan(x, &f); err == nil {
				return f, true
			}
		}
		return nil, false
	case "boolean":
		if b, ok := v.(bool); ok {
			return b, true
		}
		return nil, false
	case "object":
		if m, ok := v.(map[string]any); ok {
			return m, true
		}
		return nil, false
	case "array":
		if a, ok := v.([]any); ok {
			return a, true
		}
		return nil, false
	}
	return v, true
}

func (s *Sampler) stringValue(sc *spec.Schema, name string) string {
	n := 1000 + s.rng.IntN(9000)
	var v string
	switch sc.Format {
	case "email":
		v = fmt.Sprintf("rampart%d@example.com", n)
	case "uuid":
		v = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", s.rng.Uint32(), s.rng.IntN(1<<16), s.rng.IntN(1<<12), s.rng.IntN(1<<12), s.rng.Uint64()&(1<<48-1))
	case "date":
		v = "2026-01-15"
	case "date-time":
		v = "2026-01-15T10:00:00Z"
	case "uri", "url":
		v = "https://example.com/rampart"
	case "ipv4":
		v = "192.0.2.10"
	case "ipv6":
		v = "2001:db8::10"
	case "hostname":
		v = "example.com"
	case "byte":
		v = "cmFtcGFydA=="
	case "password":
		v = fmt.Sprintf("Rampart-%d!", n)
	default:
		lname := strings.ToLower(name)
		switch {
		case strings.Contains(lname, "email"):
			v = fmt.Sprintf("rampart%d@example.com", n)
		case strings.Contains(lname, "url") || strings.Contains(lname, "uri") || strings.Contains(lname, "link"):
			v = "https://example.com/rampart"
		case strings.Contains(lname, "phone"):
			v = "+15555550100"
		case lname == "" || lname == "id" || strings.HasSuffix(lname, "_id") || strings.HasSuffix(lname, "id"):
			v = fmt.Sprint(n)
		default:
			v = fmt.Sprintf("rampart-%d", n)
		}
	}
	if sc.MaxLength != nil && uint64(len(v)) > *sc.MaxLength {
		v = v[:*sc.MaxLength]
	}
	for uint64(len(v)) < sc.MinLength {
		v += "x"
	}
	return v
}
