package plan

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/probe"
)

// IDPool holds object IDs seen in responses, per identity: by collection path
// (the IDs listed at /orgs/{org}/projects fill /orgs/{org}/projects/{id}) and by field name.
type IDPool struct {
	mu           sync.RWMutex
	byCollection map[string]map[string][]string // identity -> collection template -> ids
	byField      map[string]map[string][]string // identity -> field name -> values
}

// NewIDPool returns an empty pool.
func NewIDPool() *IDPool {
	return &IDPool{byCollection: map[string]map[string][]string{}, byField: map[string]map[string][]string{}}
}

func idName(id *identity.Identity) string {
	if id == nil {
		return identity.Anonymous
	}
	return id.Name()
}

func addUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	if len(list) >= 50 {
		return list
	}
	return append(list, v)
}

// Record takes IDs from a JSON response of the collection at template path.
func (p *IDPool) Record(id *identity.Identity, template string, body []byte) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	name := idName(id)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byCollection[name] == nil {
		p.byCollection[name] = map[string][]string{}
		p.byField[name] = map[string][]string{}
	}
	for _, item := range listItems(v) {
		if s, ok := scalarString(item["id"]); ok && s != "" {
			p.byCollection[name][template] = addUnique(p.byCollection[name][template], s)
		}
	}
	p.walk(name, v, 0)
}

// listItems finds the objects of a list response: a top-level array or the
// first array of objects under a wrapper key (data, items, results, ...).
func listItems(v any) []map[string]any {
	var arr []any
	switch x := v.(type) {
	case []any:
		arr = x
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if a, ok := x[k].([]any); ok && len(a) > 0 {
				if _, isObj := a[0].(map[string]any); isObj {
					arr = a
					break
				}
			}
		}
	}
	var out []map[string]any
	for _, it := range arr {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func (p *IDPool) walk(name string, v any, depth int) {
	if depth > 6 {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := scalarString(val); ok && s != "" && len(s) <= 128 && !strings.ContainsAny(s, " /\n") {
				p.byField[name][strings.ToLower(k)] = addUnique(p.byField[name][strings.ToLower(k)], s)
				continue
			}
			p.walk(name, val, depth+1)
		}
	case []any:
		for i, val := range x {
			if i >= 50 {
				break
			}
			p.walk(name, val, depth+1)
		}
	}
}

// Lookup finds a value for path parameter param of template, for the identity.
func (p *IDPool) Lookup(id *identity.Identity, template, param string) (string, bool) {
	name := idName(id)
	p.mu.RLock()
	defer p.mu.RUnlock()
	if coll := collectionOf(template, param); coll != "" {
		if ids := p.byCollection[name][coll]; len(ids) > 0 {
			return ids[0], true
		}
	}
	fields := p.byField[name]
	for _, cand := range fieldCandidates(param) {
		if vs := fields[cand]; len(vs) > 0 {
			return vs[0], true
		}
	}
	return "", false
}

// Values lists every value seen for a field name, for the identity.
func (p *IDPool) Values(id *identity.Identity, field string) []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return append([]string(nil), p.byField[idName(id)][strings.ToLower(field)]...)
}

// Collection lists IDs seen in the collection at template, for the identity.
func (p *IDPool) Collection(id *identity.Identity, template string) []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return append([]string(nil), p.byCollection[idName(id)][template]...)
}

// collectionOf returns the template of the collection whose items the
// parameter names, when the parameter is the segment right after it.
func collectionOf(template, param string) string {
	segs := strings.Split(template, "/")
	for i, s := range segs {
		if s == "{"+param+"}" && i > 0 && !strings.HasPrefix(segs[i-1], "{") {
			return strings.Join(segs[:i], "/")
		}
	}
	return ""
}

// Harvest reads the list operations (GETs whose path ends in a static segment)
// as each authenticated identity and records the IDs they return; a second
// round reads lists whose parameters the first round filled. At most maxRequests are sent.
func (p *Plan) Harvest(ctx context.Context, c *probe.Client, ids []*identity.Identity, maxRequests int) error {
	sent := 0
	done := map[string]bool{}
	for round := 0; round < 2; round++ {
		for _, o := range p.Operations {
			if o.Method != http.MethodGet || strings.HasSuffix(o.Path, "}") {
				continue
			}
			for _, id := range ids {
				key := o.Key() + " " + id.Name()
				if done[key] {
					continue
				}
				if round == 0 && len(TemplateParams(o.Path)) > 0 {
					continue
				}
				ready := true
				for _, prm := range TemplateParams(o.Path) {
					if _, ok := p.IDs.Lookup(id, o.Path, prm); !ok {
						ready = false
					}
				}
				if !ready && round == 1 && len(TemplateParams(o.Path)) > 0 {
					continue
				}
				if sent >= maxRequests {
					return nil
				}
				done[key] = true
				sent++
				ex, err := c.Do(ctx, p.Request(o, id))
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					if isFatal(err) {
						return err
					}
					continue
				}
				if ex.Status >= 200 && ex.Status < 300 {
					p.IDs.Record(id, o.Path, ex.Body)
				}
			}
		}
	}
	return nil
}

func isFatal(err error) bool {
	return errors.Is(err, probe.ErrBudgetExhausted)
}

var idSuffixes = []string{"_id", "id", "_uuid", "uuid", "_slug", "_key", "_name", "_ref", "_code"}

// fieldCandidates lists response field names that may hold a path parameter's
// value: project_id → project_id, project, project_slug...; the suffix alone
// (slug, key) only for non-id suffixes.
func fieldCandidates(param string) []string {
	lp := strings.ToLower(camelToSnake(param))
	out := []string{lp}
	for _, suf := range idSuffixes {
		if base, ok := strings.CutSuffix(lp, suf); ok && base != "" {
			base = strings.TrimSuffix(base, "_")
			out = append(out, base, base+"_id")
			if s := strings.TrimPrefix(suf, "_"); s != "id" && s != "uuid" {
				out = append(out, s)
			}
			break
		}
	}
	return out
}

func camelToSnake(s string) string {
	return strings.ToLower(camel.ReplaceAllString(s, "${1}_${2}"))
}

// Collections returns every collection template with the IDs the identity saw in it.
func (p *IDPool) Collections(id *identity.Identity) map[string][]string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := map[string][]string{}
	for k, v := range p.byCollection[idName(id)] {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// Seen reports whether the identity saw value v in any response field or collection.
func (p *IDPool) Seen(id *identity.Identity, v string) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, ids := range p.byCollection[idName(id)] {
		for _, x := range ids {
			if x == v {
				return true
			}
		}
	}
	for _, vals := range p.byField[idName(id)] {
		for _, x := range vals {
			if x == v {
				return true
			}
		}
	}
	return false
}
