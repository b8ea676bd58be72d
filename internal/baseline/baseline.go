// Package baseline knows what "nothing here" looks like on a target: the
// catch-all answer to a random nonexistent path (and a random ID) under each
// path prefix, so that no check mistakes a catch-all page for evidence.
package baseline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/rampart-scan/rampart/internal/probe"
)

// Sample is one recorded catch-all answer.
type Sample struct {
	Status      int
	ContentType string
	// Body has the random probe token replaced by a placeholder.
	Body []byte
	Keys string // sorted top-level JSON keys, for shape comparison
}

// Store holds the baselines of one scan.
type Store struct {
	mu      sync.RWMutex
	samples map[string][]Sample // prefix -> samples
	rng     *rand.Rand
	rngMu   sync.Mutex
}

// NewStore returns an empty store; seed makes the random paths reproducible.
func NewStore(seed uint64) *Store {
	return &Store{samples: map[string][]Sample{}, rng: rand.New(rand.NewPCG(seed, 7))}
}

// Prefix is the first static segments of a path (at most two), the unit baselines are taken for.
func Prefix(path string) string {
	var keep []string
	for _, s := range strings.Split(strings.Trim(path, "/"), "/") {
		if s == "" || strings.HasPrefix(s, "{") || len(keep) == 2 {
			break
		}
		keep = append(keep, s)
	}
	return "/" + strings.Join(keep, "/")
}

func (s *Store) token() string {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return fmt.Sprintf("rampart-nx-%08x", s.rng.Uint32())
}

func (s *Store) number() string {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return fmt.Sprint(900000000 + s.rng.IntN(99999999))
}

// Take requests a random nonexistent path and a random ID under prefix and records the answers.
// urlFor turns a relative path into an absolute URL. ident may be nil.
func (s *Store) Take(ctx context.Context, c *probe.Client, urlFor func(string) string, prefix string, ident probe.Credentials) error {
	s.mu.RLock()
	_, done := s.samples[prefix]
	s.mu.RUnlock()
	if done {
		return nil
	}
	var got []Sample
	for _, leaf := range []string{s.token(), s.number()} {
		rel := strings.TrimSuffix(prefix, "/") + "/" + leaf
		ex, err := c.Do(ctx, &probe.Request{Method: http.MethodGet, URL: urlFor(rel), Identity: ident, Header: http.Header{"Accept": {"application/json, */*;q=0.5"}}})
		if err != nil {
			return err
		}
		got = append(got, sampleOf(ex, leaf))
	}
	s.mu.Lock()
	s.samples[prefix] = append(s.samples[prefix], got...)
	s.mu.Unlock()
	return nil
}

// Add records a sample directly (tests, or a check that learned one).
func (s *Store) Add(prefix string, ex *probe.Exchange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples[prefix] = append(s.samples[prefix], sampleOf(ex, ""))
}

func sampleOf(ex *probe.Exchange, token string) Sample {
	body := ex.Body
	if token != "" {
		body = bytes.ReplaceAll(body, []byte(token), []byte("__RAMPART_PROBE__"))
	}
	return Sample{Status: ex.Status, ContentType: mediaType(ex.Header.Get("Content-Type")), Body: body, Keys: jsonKeys(ex.Body)}
}

func mediaType(ct string) string {
	return strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
}

func jsonKeys(b []byte) string {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// IsCatchAll reports whether a response to relPath looks like the target's
// "nothing here" answer for that path's prefix (or the root's).
func (s *Store) IsCatchAll(relPath string, ex *probe.Exchange) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, p := range []string{Prefix(relPath), Prefix(firstSegment(relPath)), "/"} {
		for _, smp := range s.samples[p] {
			if Similar(smp, ex) {
				return true
			}
		}
	}
	return false
}

func firstSegment(p string) string {
	segs := strings.SplitN(strings.Trim(p, "/"), "/", 2)
	return "/" + segs[0]
}

// Has reports whether any baseline was taken for the path's prefixes.
func (s *Store) Has(relPath string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, p := range []string{Prefix(relPath), Prefix(firstSegment(relPath)), "/"} {
		if len(s.samples[p]) > 0 {
			return true
		}
	}
	return false
}

// Similar compares a response with a catch-all sample: same status and media
// type, and the same body (modulo the probe token and echoed path) or the same
// JSON shape with a similar size.
func Similar(smp Sample, ex *probe.Exchange) bool {
	if smp.Status != ex.Status || smp.ContentType != mediaType(ex.Header.Get("Content-Type")) {
		return false
	}
	if bytes.Equal(smp.Body, ex.Body) {
		return true
	}
	if smp.Keys != "" && smp.Keys == jsonKeys(ex.Body) {
		return sameScalars(smp.Body, ex.Body)
	}
	if smp.Keys == "" && jsonKeys(ex.Body) == "" {
		// Non-JSON: similar when lengths are close once the echoed token is discounted.
		a, b := len(smp.Body), len(ex.Body)
		return a > 0 && absInt(a-b) <= 48+max(a, b)/20
	}
	return false
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// sameScalars compares two JSON objects with the same keys: scalar values must
// be equal, except where the catch-all echoed the probe token (any string
// matches there); nested values must have the same kind.
func sameScalars(sample, body []byte) bool {
	var a, b map[string]any
	if json.Unmarshal(sample, &a) != nil || json.Unmarshal(body, &b) != nil {
		return false
	}
	for k, av := range a {
		bv := b[k]
		switch x := av.(type) {
		case string:
			y, ok := bv.(string)
			if !ok {
				return false
			}
			if x != y && !strings.Contains(x, "__RAMPART_PROBE__") {
				return false
			}
		case map[string]any:
			if _, ok := bv.(map[string]any); !ok {
				return false
			}
		case []any:
			y, ok := bv.([]any)
			if !ok || (len(x) == 0) != (len(y) == 0) {
				return false
			}
		default:
			if fmt.Sprint(av) != fmt.Sprint(bv) {
				return false
			}
		}
	}
	return true
}

// HasExact reports whether a baseline was taken for exactly this prefix.
func (s *Store) HasExact(prefix string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.samples[prefix]) > 0
}
