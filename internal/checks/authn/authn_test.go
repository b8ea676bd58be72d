package authn

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks/checktest"
	"github.com/rampart-scan/rampart/internal/identity"
)

// accountsSpec declares /accounts and /accounts/{id} secured by X-API-Key, and /status public.
const accountsSpec = `openapi: 3.0.3
info: {title: Accounts, version: "1"}
security: [{key: []}]
paths:
  /accounts:
    get:
      responses: {"200": {description: ok}}
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {name: {type: string, example: savings}}}
      responses: {"201": {description: created}}
  /accounts/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string, example: acc_1}}]
      responses: {"200": {description: ok}}
  /status:
    get:
      security: []
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-API-Key}
`

// accountsAPI is an independently written target; each field turns on one mistake.
type accountsAPI struct {
	detailWithoutAuth bool // /accounts/{id} answers anonymous callers
	anyKey            bool // any non-empty key is accepted
	postWithoutAuth   bool // POST /accounts skips the check
	softErrors        bool // anonymous gets 200 {"error": ...} instead of 401
	publicView        bool // anonymous gets a different, public view of /accounts/{id}
	headers           bool // sends the security headers
}

func (a *accountsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("X-API-Key")
	owner := map[string]string{"k-alice-0001": "alice", "k-bob-0002": "bob"}[key]
	if a.anyKey && key != "" && owner == "" {
		owner = "alice"
	}
	w.Header().Set("Content-Type", "application/json")
	if a.headers {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
	}
	deny := func() {
		if a.softErrors {
			fmt.Fprint(w, `{"error":"unauthorized","status":401}`)
			return
		}
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":"unauthorized"}`)
	}
	switch {
	case r.URL.Path == "/status":
		fmt.Fprint(w, `{"status":"up","version":"1.4.2"}`)
	case r.URL.Path == "/accounts" && r.Method == "GET":
		if owner == "" {
			deny()
			return
		}
		fmt.Fprintf(w, `[{"id":"acc_%s","owner":%q,"balance":1200}]`, owner, owner)
	case r.URL.Path == "/accounts" && r.Method == "POST":
		if owner == "" && !a.postWithoutAuth {
			deny()
			return
		}
		w.WriteHeader(201)
		fmt.Fprint(w, `{"id":"acc_new","owner":"anonymous","name":"savings"}`)
	case strings.HasPrefix(r.URL.Path, "/accounts/"):
		id := strings.TrimPrefix(r.URL.Path, "/accounts/")
		if id != "acc_alice" && id != "acc_bob" {
			w.WriteHeader(404)
			fmt.Fprint(w, `{"error":"no such account"}`)
			return
		}
		if owner == "" && !a.detailWithoutAuth {
			if a.publicView {
				fmt.Fprintf(w, `{"id":%q,"public":true}`, id)
				return
			}
			deny()
			return
		}
		if owner == "" {
			owner = strings.TrimPrefix(id, "acc_")
		}
		json.NewEncoder(w).Encode(map[string]any{"id": id, "owner": owner, "balance": 1200, "iban": "DE89370400440532013000"})
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":"not found"}`)
	}
}

func scan(t *testing.T, api http.Handler, spec string, active bool) []check.Finding {
	t.Helper()
	r := checktest.Scan(t, checktest.Target{Handler: api, Spec: spec, Active: active, Identities: []*identity.Identity{
		checktest.Key("alice", "X-API-Key", "k-alice-0001"), checktest.Key("bob", "X-API-Key", "k-bob-0002"),
	}}, New())
	return r.Findings
}

func count(fs []check.Finding, rule string) int {
	n := 0
	for _, f := range fs {
		if f.Rule == rule {
			n++
		}
	}
	return n
}

func TestMissingAuthentication(t *testing.T) {
	fs := scan(t, &accountsAPI{detailWithoutAuth: true, headers: true}, accountsSpec, false)
	var got *check.Finding
	for i := range fs {
		if fs[i].Rule == RuleMissing {
			got = &fs[i]
		}
	}
	if got == nil || got.Path != "/accounts/{id}" || got.Confidence != check.Confirmed || got.Severity != check.Critical {
		t.Fatalf("want a confirmed critical authn.missing on /accounts/{id}, got %+v", fs)
	}
	if strings.Contains(got.Curl, "X-API-Key") || len(got.Evidence) < 2 {
		t.Errorf("the proof is an anonymous request compared with the genuine one: %+v", got)
	}
	if count(fs, RuleMissing) != 1 {
		t.Errorf("/status is declared public and /accounts is protected: %d findings", count(fs, RuleMissing))
	}
}

func TestSilentTargets(t *testing.T) {
	cases := map[string]*accountsAPI{
		"correct API":           {headers: true},
		"soft 200 errors":       {softErrors: true, headers: true},
		"different public view": {publicView: true, headers: true},
	}
	for name, api := range cases {
		t.Run(name, func(t *testing.T) {
			if fs := scan(t, api, accountsSpec, true); len(fs) != 0 {
				t.Fatalf("false positives: %+v", fs)
			}
		})
	}
	t.Run("catch-all 200 for everything", func(t *testing.T) {
		all := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Cache-Control", "no-store")
			fmt.Fprint(w, `{"status":"ok","message":"welcome to the API"}`)
		})
		if fs := scan(t, all, accountsSpec, true); len(fs) != 0 {
			t.Fatalf("false positives on a catch-all target: %+v", fs)
		}
	})
}

func TestInvalidCredentialsAccepted(t *testing.T) {
	fs := scan(t, &accountsAPI{anyKey: true, headers: true}, accountsSpec, false)
	if count(fs, RuleInvalidAccepted) != 1 {
		t.Fatalf("want one (shared) finding, got %+v", fs)
	}
	for _, f := range fs {
		if f.Rule == RuleInvalidAccepted && (f.Severity != check.Critical || !strings.Contains(f.Curl, "X-Api-Key: rampartInvalid")) {
			t.Errorf("finding: %+v", f)
		}
	}
}

func TestMethodBypassNeedsActive(t *testing.T) {
	api := &accountsAPI{postWithoutAuth: true, headers: true}
	if n := count(scan(t, api, accountsSpec, false), RuleMethodBypass); n != 0 {
		t.Fatal("a write was judged without --active")
	}
	fs := scan(t, api, accountsSpec, true)
	if count(fs, RuleMethodBypass) != 1 {
		t.Fatalf("want method bypass on POST /accounts, got %+v", fs)
	}
}

func TestSpecSilentUsesSiblings(t *testing.T) {
	silent := strings.Replace(accountsSpec, "security: [{key: []}]\n", "", 1)
	silent = strings.Replace(silent, "      security: []\n", "", 1)
	silent = silent[:strings.Index(silent, "components:")]
	fs := scan(t, &accountsAPI{detailWithoutAuth: true, headers: true}, silent, false)
	if count(fs, RuleMissing) != 1 {
		t.Fatalf("a sibling (/accounts) demands credentials, /accounts/{id} does not: %+v", fs)
	}
}

func TestSecurityHeaders(t *testing.T) {
	fs := scan(t, &accountsAPI{}, accountsSpec, false)
	names := map[string]bool{}
	for _, f := range fs {
		if f.Rule == RuleSecurityHeaders {
			if f.Severity != check.Low || f.Parameter == nil {
				t.Errorf("%+v", f)
				continue
			}
			names[f.Parameter.Name] = true
		}
	}
	if !names["X-Content-Type-Options"] || !names["Cache-Control"] {
		t.Fatalf("headers: %v", names)
	}
}
