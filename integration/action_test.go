package integration

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/internal/lab"
	"github.com/rampart-scan/rampart/internal/report"
)

// TestGitHubActionScript runs the action's step script against the lab with
// temporary GITHUB_STEP_SUMMARY and GITHUB_OUTPUT files.
func TestGitHubActionScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rampart")
	}
	for _, c := range []struct {
		mode lab.Mode
		exit int
	}{{lab.Vulnerable, 1}, {lab.Hardened, 0}} {
		t.Run(string(c.mode), func(t *testing.T) {
			srv := httptest.NewServer(lab.New(c.mode))
			defer srv.Close()
			dir := t.TempDir()
			cfg := filepath.Join(dir, "rampart.yaml")
			os.WriteFile(cfg, []byte(lab.Config(srv.URL)), 0o600)
			summary, outputs := filepath.Join(dir, "summary.md"), filepath.Join(dir, "outputs")
			cmd := exec.Command("bash", filepath.Join("..", "scripts", "action.sh"))
			cmd.Env = append(os.Environ(), "INPUT_CONFIG="+cfg, "INPUT_FAIL_ON=high", "INPUT_ARGS=--rate 0 --llm-delay 0 --only authn --only bola --only llm",
				"GITHUB_STEP_SUMMARY="+summary, "GITHUB_OUTPUT="+outputs, "RAMPART_OUT_DIR="+filepath.Join(dir, "out"), "RAMPART_SRC="+filepath.Join(".."))
			stdout, err := cmd.Output()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.exit {
				t.Fatalf("exit %d, want %d\n%s", code, c.exit, stdout)
			}
			got := map[string]string{}
			data, _ := os.ReadFile(outputs)
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				k, v, _ := strings.Cut(line, "=")
				got[k] = v
			}
			f, err := os.Open(got["report"])
			if err != nil {
				t.Fatalf("outputs %v: %v", got, err)
			}
			r, err := report.ReadJSON(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got["score"] != strconv.Itoa(*r.Score) || got["grade"] != *r.Grade || got["findings"] != strconv.Itoa(len(r.Findings)) {
				t.Errorf("outputs %v, report score %d grade %s findings %d", got, *r.Score, *r.Grade, len(r.Findings))
			}
			if _, err := os.Stat(got["sarif"]); err != nil {
				t.Error("no SARIF")
			}
			md, _ := os.ReadFile(summary)
			if !strings.Contains(string(md), "## Rampart: ") {
				t.Errorf("job summary: %q", md)
			}
			if c.mode == lab.Vulnerable && !strings.Contains(string(stdout), "::error ") {
				t.Error("no workflow annotation")
			}
		})
	}
}
