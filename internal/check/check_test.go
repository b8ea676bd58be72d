package check

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestFingerprint(t *testing.T) {
	sum := sha256.Sum256([]byte("bola.cross-tenant\nGET\n/v2/invoices/{invoice_id}\nheader:X-Org-Id"))
	want := hex.EncodeToString(sum[:])[:16]
	if got := Fingerprint("bola.cross-tenant", "get", "/v2/invoices/{invoice_id}", &Param{In: "header", Name: "X-Org-Id"}); got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	sum = sha256.Sum256([]byte("jwt.alg-none\n*\n*\n:"))
	if got := Fingerprint("jwt.alg-none", "*", "*", nil); got != hex.EncodeToString(sum[:])[:16] {
		t.Fatal("no-parameter form")
	}
}

func TestTemplatePath(t *testing.T) {
	cases := map[string]string{
		"/users/42":                    "/users/{}",
		"/orgs/acme/invoices/inv_1001": "/orgs/acme/invoices/{}",
		"/files/3f2a9c1e-0b7d-4c1a-9e2f-1234567890ab/meta": "/files/{}/meta",
		"/blobs/deadbeefdeadbeefdeadbeef":                  "/blobs/{}",
		"/v1/items/{id}":                                   "/v1/items/{id}",
		"/v2/me":                                           "/v2/me",
		"*":                                                "*",
	}
	for in, want := range cases {
		if got := TemplatePath(in); got != want {
			t.Errorf("%s: got %s want %s", in, got, want)
		}
	}
}

func TestCatalogueValidation(t *testing.T) {
	ok := Rule{ID: "jwt.alg-none", Title: "t", Severity: Critical, SeverityRule: "r", Remediation: "fix", Aliases: []string{"jwt.none"}}
	c, err := NewCatalogue([]Rule{ok})
	if err != nil {
		t.Fatal(err)
	}
	if r, found := c.Lookup("jwt.none"); !found || r.Category != Authentication {
		t.Fatalf("alias lookup: %+v", r)
	}
	bad := []Rule{
		{ID: "nope.x", Title: "t", SeverityRule: "r", Remediation: "f"},
		{ID: "jwt.x", Category: BOLA, Title: "t", SeverityRule: "r", Remediation: "f"},
		{ID: "jwt.y", SeverityRule: "r", Remediation: "f"},
	}
	for _, r := range bad {
		if _, err := NewCatalogue([]Rule{r}); err == nil {
			t.Errorf("%s accepted", r.ID)
		}
	}
	if _, err := NewCatalogue([]Rule{ok, ok}); err == nil {
		t.Error("duplicate accepted")
	}
}

func TestSelectors(t *testing.T) {
	r := Rule{ID: "jwt.alg-none", Category: Authentication}
	for sel, want := range map[Selector]bool{"jwt.alg-none": true, "jwt": true, "jwt.": true, "authentication": true, "bola": false, "jwt.alg": false} {
		if sel.Matches(r) != want {
			t.Errorf("%s: want %v", sel, want)
		}
	}
	f := RuleFilter{Only: []Selector{"authentication"}, Skip: []Selector{"jwt.alg-none"}}
	if f.Allows(r) {
		t.Error("skip must win over only")
	}
}

func TestSeverityConfidenceText(t *testing.T) {
	for _, s := range []string{"info", "low", "medium", "high", "critical"} {
		v, err := ParseSeverity(s)
		if err != nil || v.String() != s {
			t.Errorf("%s: %v %v", s, v, err)
		}
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("bad severity accepted")
	}
	if c, err := ParseConfidence("likely"); err != nil || c != Likely {
		t.Error("confidence")
	}
}

func TestFacts(t *testing.T) {
	f := NewFacts()
	k := NewKey[[]string]("ids")
	if _, ok := Get(f, k); ok {
		t.Fatal("empty store has a value")
	}
	Update(f, k, func(old []string, _ bool) []string { return append(old, "a") })
	Update(f, k, func(old []string, _ bool) []string { return append(old, "b") })
	if v, _ := Get(f, k); len(v) != 2 {
		t.Fatalf("update: %v", v)
	}
}

func TestParallel(t *testing.T) {
	var mu sync.Mutex
	seen, inFlight, peak := 0, 0, 0
	err := Parallel(context.Background(), 20, 3, func(ctx context.Context, i int) error {
		mu.Lock()
		seen++
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	})
	if err != nil || seen != 20 || peak > 3 || peak < 2 {
		t.Errorf("err=%v seen=%d peak=%d", err, seen, peak)
	}
	boom := errors.New("boom")
	if err := Parallel(context.Background(), 50, 2, func(ctx context.Context, i int) error {
		if i == 3 {
			return boom
		}
		return nil
	}); err != boom {
		t.Errorf("first error: %v", err)
	}
}
