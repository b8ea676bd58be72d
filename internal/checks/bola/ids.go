package bola

import (
	"context"
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
)

var numbered = regexp.MustCompile(`^([A-Za-z][A-Za-z_-]*?[_-]?)?(\d{1,18})$`)

// splitID separates a prefix from a numeric suffix (inv_1001 → "inv_", 1001).
func splitID(id string) (string, int64, bool) {
	m := numbered.FindStringSubmatch(id)
	if m == nil {
		return "", 0, false
	}
	n, err := strconv.ParseInt(m[2], 10, 64)
	return m[1], n, err == nil
}

// sequential reports whether IDs share a prefix and their numbers are (nearly) consecutive.
func sequential(ids []string) bool {
	if len(ids) < 2 {
		return false
	}
	var prefix string
	var nums []int64
	for i, id := range ids {
		p, n, ok := splitID(id)
		if !ok || (i > 0 && p != prefix) {
			return false
		}
		prefix = p
		nums = append(nums, n)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	for i := 1; i < len(nums); i++ {
		if d := nums[i] - nums[i-1]; d < 1 || d > 2 {
			return false
		}
	}
	return true
}

// detailOp finds the GET operation that reads one item of a collection.
func detailOp(s *check.Scan, collection string) (*plan.Operation, string) {
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet || !strings.HasPrefix(o.Path, collection+"/{") {
			continue
		}
		rest := strings.TrimPrefix(o.Path, collection+"/")
		if strings.Count(rest, "/") == 0 && strings.HasSuffix(rest, "}") {
			return o, rest[1 : len(rest)-1]
		}
	}
	return nil, ""
}

// predictable reports collections whose IDs are sequential numbers.
func (f *Family) predictable(s *check.Scan, users []*identity.Identity) {
	if !s.Enabled(RulePredictableIDs) {
		return
	}
	done := map[string]bool{}
	for _, id := range s.Identities.Authenticated() {
		colls := s.Plan.IDs.Collections(id)
		keys := make([]string, 0, len(colls))
		for k := range colls {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, coll := range keys {
			ids := colls[coll]
			if done[coll] || !sequential(ids) {
				continue
			}
			op, param := detailOp(s, coll)
			if op == nil {
				continue
			}
			done[coll] = true
			shown := ids
			if len(shown) > 5 {
				shown = shown[:5]
			}
			s.Report(check.Finding{
				Rule: RulePredictableIDs, Severity: check.Low, Confidence: check.Confirmed, Method: op.Method, Path: op.Path,
				Parameter: &check.Param{In: "path", Name: param}, Identity: id.Name(),
				Detail:       fmt.Sprintf("%s lists sequential identifiers (%s): neighbours of any known ID are easy to guess.", coll, strings.Join(shown, ", ")),
				Evidence:     []check.Evidence{{Kind: check.EvidenceNote, Identity: id.Name(), Note: "IDs seen in " + coll + ": " + strings.Join(shown, ", ")}},
				SpecLocation: check.SpecLocation(op),
			})
		}
	}
}

// adjacent probes neighbours of one's own sequential IDs when there is only one identity:
// a neighbour that answers with an object of the same shape is likely someone else's.
func (f *Family) adjacent(ctx context.Context, s *check.Scan, id *identity.Identity) error {
	colls := s.Plan.IDs.Collections(id)
	keys := make([]string, 0, len(colls))
	for k := range colls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, coll := range keys {
		own := colls[coll]
		op, param := detailOp(s, coll)
		if op == nil || len(own) == 0 {
			continue
		}
		prefix, n, ok := splitID(own[0])
		if !ok {
			continue
		}
		hi := n
		for _, x := range own {
			if p, v, ok := splitID(x); ok && p == prefix && v > hi {
				hi = v
			}
		}
		exOwn, err := f.do(ctx, s, build(s, op, id, id, selectors(op)))
		if err != nil || !usable(s, exOwn) {
			return err
		}
		mine := map[string]bool{}
		for _, x := range own {
			mine[x] = true
		}
		for _, cand := range []int64{n + 1, n - 1, hi + 1, n + 2} {
			guess := prefix + strconv.FormatInt(cand, 10)
			if cand < 0 || mine[guess] {
				continue
			}
			req := build(s, op, id, id, selectors(op))
			pv := s.Plan.PathParams(op, id)
			pv[param] = guess
			u, _ := url.Parse(req.URL)
			u.Path = strings.TrimSuffix(s.Plan.Base.Path, "/") + plan.Expand(op.Path, pv)
			u.RawPath = ""
			req.URL = u.String()
			ex, err := f.do(ctx, s, req)
			if err != nil {
				return err
			}
			if !usable(s, ex) || sameKeys(ex.Body, exOwn.Body) < 0.8 || compare.Similarity(ex.Body, exOwn.Body) >= 0.95 {
				continue
			}
			s.Report(check.Finding{
				Rule: RuleObjectAccess, Severity: check.High, Confidence: check.Likely, Method: op.Method, Path: op.Path,
				Parameter: &check.Param{In: "path", Name: param}, Identity: id.Name(),
				Detail: fmt.Sprintf("%s owns %s; the neighbouring ID %s, absent from its own lists, answers with an object of the same shape. With a second identity Rampart could confirm whose it is.",
					id.Name(), own[0], guess),
				Evidence: []check.Evidence{s.Evidence(ex, "neighbouring ID"), s.Evidence(exOwn, "own object")},
				Curl:     s.Curl(ex), SpecLocation: check.SpecLocation(op),
			})
			break
		}
	}
	return nil
}

// sameKeys is the share of top-level JSON keys two objects have in common.
func sameKeys(a, b []byte) float64 {
	la, lb := compare.Leaves(a), compare.Leaves(b)
	if la == nil || lb == nil {
		return 0
	}
	ka, kb := map[string]bool{}, map[string]bool{}
	for k := range la {
		ka[k] = true
	}
	for k := range lb {
		kb[k] = true
	}
	inter := 0
	for k := range ka {
		if kb[k] {
			inter++
		}
	}
	union := len(ka) + len(kb) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}
