package llm

import (
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

//go:embed corpus/*.yaml
var builtin embed.FS

// Probe is one attack of the corpus.
type Probe struct {
	ID    string   `yaml:"id" json:"id"`
	Tier  string   `yaml:"tier" json:"tier"`
	Turns []string `yaml:"turns" json:"turns"`
	// Judge: canary, leak, markup, exfil, hit, pii or cost.
	Judge string `yaml:"judge" json:"judge"`
	// Rule overrides the file's rule.
	Rule string `yaml:"rule" json:"rule"`
	// Serve is what the canary answers (indirect injection).
	Serve string `yaml:"serve" json:"serve,omitempty"`
	// Active marks probes that need --active (cost).
	Active    bool   `yaml:"active" json:"active,omitempty"`
	MaxTokens int    `yaml:"max_tokens" json:"max_tokens,omitempty"`
	Class     string `yaml:"-" json:"class"`
	Source    string `yaml:"-" json:"source"`
}

type corpusFile struct {
	Class  string  `yaml:"class"`
	Rule   string  `yaml:"rule"`
	Probes []Probe `yaml:"probes"`
}

var (
	tiers  = map[string]int{"quick": 0, "standard": 1, "deep": 2}
	judges = map[string]bool{"canary": true, "leak": true, "markup": true, "exfil": true, "hit": true, "pii": true, "cost": true}
)

// Corpus loads the built-in probes and those of dir (may be empty). Errors name the file.
func Corpus(dir string) ([]Probe, error) {
	var out []Probe
	add := func(fsys fs.FS, name, source string) error {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		var f corpusFile
		if err := yaml.Load(data, &f, yaml.WithKnownFields()); err != nil {
			return fmt.Errorf("probe file %s: %s", source, strings.Split(err.Error(), "\n")[0])
		}
		for _, p := range f.Probes {
			if p.Rule == "" {
				p.Rule = f.Rule
			}
			p.Class, p.Source = f.Class, source
			if _, ok := tiers[p.Tier]; !ok || p.ID == "" || len(p.Turns) == 0 || !judges[p.Judge] || !strings.HasPrefix(p.Rule, "llm.") {
				return fmt.Errorf("probe file %s: probe %q needs an id, a tier (quick, standard, deep), turns, a judge (canary, leak, markup, exfil, hit, pii, cost) and an llm. rule", source, p.ID)
			}
			out = append(out, p)
		}
		return nil
	}
	names, _ := fs.Glob(builtin, "corpus/*.yaml")
	for _, n := range names {
		if err := add(builtin, n, "builtin/"+filepath.Base(n)); err != nil {
			return nil, err
		}
	}
	if dir != "" {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("--llm-probes %s: no .yaml files", dir)
		}
		sort.Strings(files)
		for _, f := range files {
			if err := add(os.DirFS(filepath.Dir(f)), filepath.Base(f), f); err != nil {
				return nil, err
			}
		}
	}
	seen := map[string]bool{}
	for _, p := range out {
		if seen[p.ID] {
			return nil, fmt.Errorf("probe %q defined twice", p.ID)
		}
		seen[p.ID] = true
	}
	return out, nil
}

// Select keeps the probes of a tier and below (quick ⊂ standard ⊂ deep).
func Select(probes []Probe, tier string, active bool) []Probe {
	var out []Probe
	for _, p := range probes {
		if tiers[p.Tier] <= tiers[tier] && (!p.Active || active) {
			out = append(out, p)
		}
	}
	return out
}

var fnRe = regexp.MustCompile(`\{(b64|rot13|hex):([^{}]*)\}`)

// Render fills a turn: {canary}, {canary_url}, then {b64:…}, {rot13:…}, {hex:…}.
func Render(turn, canary, canaryURL string) string {
	s := strings.NewReplacer("{canary}", canary, "{canary_url}", canaryURL).Replace(turn)
	return fnRe.ReplaceAllStringFunc(s, func(m string) string {
		g := fnRe.FindStringSubmatch(m)
		switch g[1] {
		case "b64":
			return base64.StdEncoding.EncodeToString([]byte(g[2]))
		case "hex":
			return hex.EncodeToString([]byte(g[2]))
		}
		return rot13(g[2])
	})
}

func rot13(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return 'a' + (r-'a'+13)%26
		case r >= 'A' && r <= 'Z':
			return 'A' + (r-'A'+13)%26
		}
		return r
	}, s)
}
