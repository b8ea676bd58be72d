package ratelimit

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/compare"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

// uploadBytes is the oversized body (bounded: one request).
const uploadBytes = 12 << 20

// upload sends one body far above a sane size to each upload-like or JSON create operation.
func (f *Family) upload(ctx context.Context, s *check.Scan) error {
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodPost || o.Spec == nil || o.Spec.RequestBody == nil || o.Class&(plan.Login|plan.OTPCheck|plan.PasswordReset|plan.LLMSpec|plan.LLMPath) != 0 {
			continue
		}
		ct := ""
		var body []byte
		for k := range o.Spec.RequestBody.Content {
			if k == "application/octet-stream" || strings.HasPrefix(k, "image/") || k == "multipart/form-data" {
				ct = k
			}
		}
		switch ct {
		case "application/octet-stream":
			body = make([]byte, uploadBytes)
		case "":
			continue
		default:
			continue // multipart and images: not probed yet
		}
		id, _, err := s.Writer(ctx, o)
		if err != nil {
			return err
		}
		req := s.Plan.Request(o, id)
		req.Body = body
		req.Header.Set("Content-Type", ct)
		req.NoRetry = true
		ex, err := s.Client.Do(ctx, req)
		if err != nil {
			if fatal(err) {
				return err
			}
			continue
		}
		if !check.OK(ex.Status) || compare.IsErrorBody(ex.Body) {
			continue
		}
		s.Report(check.Finding{Rule: RuleUploadLimit, Severity: check.Medium, Confidence: check.Confirmed, Method: o.Method, Path: o.Path, Identity: ex.Identity,
			Detail:   fmt.Sprintf("A %d MiB upload was accepted with %d.", uploadBytes>>20, ex.Status),
			Evidence: []check.Evidence{s.Evidence(ex, "oversized upload accepted")}, SpecLocation: check.SpecLocation(o)})
	}
	return nil
}

// redos sends growing crafted inputs to string query parameters with a pattern
// or an email/search-like name and judges medians of three runs per size.
func (f *Family) redos(ctx context.Context, s *check.Scan) error {
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet || o.Spec == nil {
			continue
		}
		for _, p := range o.Spec.Parameters {
			if p.In != "query" || p.Schema == nil || !p.Schema.Is("string") || (p.Schema.Pattern == "" && !regexLike(p)) {
				continue
			}
			if err := f.redosParam(ctx, s, o, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func regexLike(p *spec.Parameter) bool {
	n := strings.ToLower(p.Name)
	return strings.Contains(n, "email") || strings.Contains(n, "pattern") || strings.Contains(n, "regex") || n == "q" || n == "search" || n == "filter"
}

// Sizes of the crafted input; the ratio between the last and the first is judged.
var redosSizes = []int{14, 20, 26}

// redosInput is a classic backtracking trigger: many a's and a character that fails the match.
func redosInput(n int) string { return strings.Repeat("a", n) + "!" }

func (f *Family) redosParam(ctx context.Context, s *check.Scan, o *plan.Operation, p *spec.Parameter) error {
	var medians []time.Duration
	var last *probe.Exchange
	for _, n := range redosSizes {
		var runs []time.Duration
		for i := 0; i < 3; i++ {
			req := s.Plan.Request(o, firstUser(s))
			u, _ := url.Parse(req.URL)
			q := u.Query()
			q.Set(p.Name, redosInput(n))
			u.RawQuery = q.Encode()
			req.URL, req.NoRetry = u.String(), true
			start := f.Clock.Now()
			ex, err := s.Client.Do(ctx, req)
			if err != nil {
				if fatal(err) {
					return err
				}
				return nil
			}
			runs = append(runs, f.Clock.Now().Sub(start))
			last = ex
		}
		medians = append(medians, median(runs))
	}
	if !SuperLinear(redosSizes, medians) {
		return nil
	}
	var parts []string
	for i, n := range redosSizes {
		parts = append(parts, fmt.Sprintf("%d chars: %s", n+1, medians[i].Round(time.Millisecond)))
	}
	s.Report(check.Finding{Rule: RuleReDoS, Severity: check.High, Confidence: check.Likely, Method: o.Method, Path: o.Path,
		Parameter: &check.Param{In: "query", Name: p.Name}, Identity: last.Identity,
		Detail:   "The answer time grows super-linearly with the crafted input (median of 3 runs): " + strings.Join(parts, ", ") + ".",
		Evidence: []check.Evidence{{Kind: check.EvidenceNote, Note: strings.Join(parts, "; ")}, s.Evidence(last, "largest input")}, Curl: s.Curl(last), SpecLocation: check.SpecLocation(o)})
	return nil
}

// SuperLinear judges medians: the largest input must take at least 200 ms and
// its time must grow at least 8 times faster than its length (wide margins:
// on 2 cores load alone can double a latency).
func SuperLinear(sizes []int, medians []time.Duration) bool {
	if len(sizes) < 2 || len(sizes) != len(medians) {
		return false
	}
	first, last := medians[0], medians[len(medians)-1]
	if last < 200*time.Millisecond || first <= 0 {
		return last >= 200*time.Millisecond && first == 0
	}
	growth := float64(last) / float64(first)
	lengthRatio := float64(sizes[len(sizes)-1]) / float64(sizes[0])
	return growth >= 8*lengthRatio
}

func firstUser(s *check.Scan) *identity.Identity {
	if u := s.Identities.Users(); len(u) > 0 {
		return u[0]
	}
	return nil
}
