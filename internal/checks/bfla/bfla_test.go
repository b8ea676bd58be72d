package bfla

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks/checktest"
	"github.com/rampart-scan/rampart/internal/identity"
)

const opsSpec = `openapi: 3.0.3
info: {title: Ops, version: "1"}
security: [{bearer: []}]
paths:
  /v1/reports/usage:
    get:
      tags: [admin]
      summary: Platform usage across every customer
      responses: {"200": {description: ok}}
  /v1/reports/mine:
    get:
      summary: Your own usage
      responses: {"200": {description: ok}}
  /v1/settings:
    get:
      summary: Settings, administrators only
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
`

type opsAPI struct {
	open          bool // /v1/reports/usage answers users like admins
	ownViewOnly   bool // /v1/settings answers users with their own, smaller view
	hiddenConsole bool // an undocumented /v1/admin/users open to users
}

func (a *opsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	role := map[string]string{"Bearer u-1": "user", "Bearer a-9": "admin"}[r.Header.Get("Authorization")]
	if role == "" {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":"unauthorized"}`)
		return
	}
	switch r.URL.Path {
	case "/v1/reports/usage":
		if role != "admin" && !a.open {
			w.WriteHeader(403)
			fmt.Fprint(w, `{"error":"forbidden"}`)
			return
		}
		fmt.Fprint(w, `{"customers":[{"id":"c1","calls":100},{"id":"c2","calls":900}],"total":1000}`)
	case "/v1/reports/mine":
		fmt.Fprint(w, `{"calls":100}`)
	case "/v1/settings":
		if role == "admin" {
			fmt.Fprint(w, `{"smtp_host":"mail.internal","retention_days":30,"feature_flags":["a","b"],"billing":"stripe"}`)
		} else if a.ownViewOnly {
			fmt.Fprint(w, `{"theme":"dark"}`)
		} else {
			w.WriteHeader(403)
			fmt.Fprint(w, `{"error":"forbidden"}`)
		}
	case "/v1/admin/users":
		if role != "admin" && !a.hiddenConsole {
			w.WriteHeader(403)
			fmt.Fprint(w, `{"error":"forbidden"}`)
			return
		}
		fmt.Fprint(w, `[{"id":1,"email":"a@ops.example","role":"admin"},{"id":2,"email":"u@ops.example","role":"user"}]`)
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":"not found"}`)
	}
}

func identities(withAdmin bool) []*identity.Identity {
	ids := []*identity.Identity{checktest.Key("user", "Authorization", "Bearer u-1")}
	if withAdmin {
		a := checktest.Key("root", "Authorization", "Bearer a-9")
		a.Role = identity.RoleAdmin
		ids = append(ids, a)
	}
	return ids
}

func scanOps(t *testing.T, api http.Handler, withAdmin bool) map[string]check.Finding {
	got := map[string]check.Finding{}
	for _, f := range checktest.Scan(t, checktest.Target{Handler: api, Spec: opsSpec, Identities: identities(withAdmin)}, New()).Findings {
		got[f.Rule+" "+f.Method+" "+f.Path] = f
	}
	return got
}

func TestAdminFunction(t *testing.T) {
	got := scanOps(t, &opsAPI{open: true, ownViewOnly: true, hiddenConsole: true}, true)
	if f, ok := got["bfla.admin-function GET /v1/reports/usage"]; !ok || f.Confidence != check.Confirmed {
		t.Fatalf("documented admin op: %v", got)
	}
	if f, ok := got["bfla.admin-function GET /v1/admin/users"]; !ok || f.Confidence != check.Confirmed {
		t.Errorf("probed admin path: %v", got)
	}
	if _, ok := got["bfla.admin-function GET /v1/settings"]; ok {
		t.Error("a user's own, smaller view is not the admin function")
	}
	// Without an admin identity: likely, and no probing of undocumented paths.
	got = scanOps(t, &opsAPI{open: true, hiddenConsole: true}, false)
	if f, ok := got["bfla.admin-function GET /v1/reports/usage"]; !ok || f.Confidence != check.Likely {
		t.Errorf("without admin: %v", got)
	}
	if _, ok := got["bfla.admin-function GET /v1/admin/users"]; ok {
		t.Error("undocumented paths need an admin identity to compare with")
	}
}

func TestAdminFunctionSilent(t *testing.T) {
	for _, withAdmin := range []bool{true, false} {
		for k, f := range scanOps(t, &opsAPI{}, withAdmin) {
			if f.Severity > check.Low {
				t.Errorf("false positive %s", k)
			}
		}
	}
}

func TestIsAdminOp(t *testing.T) {
	if !adminSegment.MatchString("admin") || adminSegment.MatchString("administered-items") || !strings.Contains(why(nil), "administrative") {
		t.Fatal("admin detection")
	}
}
