package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	yaml "go.yaml.in/yaml/v4"

	"github.com/rampart-scan/rampart/internal/identity"
)

// fileConfig is the --config file (CONTRACTS §1). Unknown keys are errors.
type fileConfig struct {
	Target     string           `yaml:"target"`
	Spec       string           `yaml:"spec"`
	Identities []identityConfig `yaml:"identities"`
	Options    optionsConfig    `yaml:"options"`
	JWT        jwtConfig        `yaml:"jwt"`
}

// jwtConfig holds key material a tester was given; the JWT family uses it for
// single-claim audits only (CONTRACTS §1). Paths are relative to the config file.
type jwtConfig struct {
	Secret       string  `yaml:"secret"`
	PrivateKey   string  `yaml:"private_key"`
	PublicKey    string  `yaml:"public_key"`
	Wordlist     *string `yaml:"wordlist"`
	ForeignToken *string `yaml:"foreign_token"`
	CrackTimeout *string `yaml:"crack_timeout"`
	LongLifetime *string `yaml:"long_lifetime"`
}

type identityConfig struct {
	Name    string            `yaml:"name"`
	Role    string            `yaml:"role"`
	Tenant  stringList        `yaml:"tenant"`
	Headers map[string]string `yaml:"headers"`
	Cookies map[string]string `yaml:"cookies"`
	Query   map[string]string `yaml:"query"`
	Login   *loginConfig      `yaml:"login"`
}

type loginConfig struct {
	Method      string            `yaml:"method"`
	URL         string            `yaml:"url"`
	JSON        any               `yaml:"json"`
	Form        map[string]string `yaml:"form"`
	Token       string            `yaml:"token"`
	TokenHeader string            `yaml:"token_header"`
	TokenCookie string            `yaml:"token_cookie"`
	Header      string            `yaml:"header"`
}

// stringList accepts a single string or a list.
type stringList []string

func (s *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = []string{n.Value}
		return nil
	}
	var l []string
	if err := n.Load(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

// optionsConfig has a snake_case key for every scan flag; nil means unset.
type optionsConfig struct {
	Active         *bool      `yaml:"active"`
	Depth          *string    `yaml:"depth"`
	Rate           *float64   `yaml:"rate"`
	Concurrency    *int       `yaml:"concurrency"`
	MaxRequests    *int       `yaml:"max_requests"`
	MaxDuration    *string    `yaml:"max_duration"`
	ConnectTimeout *string    `yaml:"connect_timeout"`
	Timeout        *string    `yaml:"timeout"`
	Burst          *int       `yaml:"burst"`
	AllowOrigin    stringList `yaml:"allow_origin"`
	Include        stringList `yaml:"include"`
	Exclude        stringList `yaml:"exclude"`
	Only           stringList `yaml:"only"`
	Skip           stringList `yaml:"skip"`
	Header         stringList `yaml:"header"`
	Proxy          *string    `yaml:"proxy"`
	CACert         *string    `yaml:"ca_cert"`
	Insecure       *bool      `yaml:"insecure"`
	ClientCert     *string    `yaml:"client_cert"`
	ClientKey      *string    `yaml:"client_key"`
	Format         *string    `yaml:"format"`
	Output         stringList `yaml:"output"`
	HAR            *string    `yaml:"har"`
	SARIFLocation  *string    `yaml:"sarif_location"`
	DryRun         *bool      `yaml:"dry_run"`
	Seed           *uint64    `yaml:"seed"`
	OOBURL         *string    `yaml:"oob_url"`
	OOBToken       *string    `yaml:"oob_token"`
	LLMTier        *string    `yaml:"llm_tier"`
	LLMDelay       *string    `yaml:"llm_delay"`
	LLMMaxDuration *string    `yaml:"llm_max_duration"`
	LLMProbes      *string    `yaml:"llm_probes"`
	Baseline       *string    `yaml:"baseline"`
	FailOnNew      *bool      `yaml:"fail_on_new"`
	IgnoreFile     *string    `yaml:"ignore_file"`
	FailOn         *string    `yaml:"fail_on"`
	FailUnder      *int       `yaml:"fail_under"`
	MinConfidence  *string    `yaml:"min_confidence"`
}

// loadConfig reads and strictly decodes a config file, expanding ${ENV} in every
// string and resolving relative file paths against the file's folder.
func loadConfig(path string) (*fileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, unwrapPath(err))
	}
	var cfg fileConfig
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.Load(data, &cfg, yaml.WithKnownFields()); err != nil {
			return nil, fmt.Errorf("config %s: %s", path, oneLine(err.Error()))
		}
	}
	if err := expandAll(&cfg); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	rel := func(p *string) {
		if p != nil && *p != "" && !filepath.IsAbs(*p) && !strings.Contains(*p, "://") {
			*p = filepath.Join(dir, *p)
		}
	}
	rel(&cfg.Spec)
	if !strings.Contains(cfg.JWT.PrivateKey, "-----BEGIN") {
		rel(&cfg.JWT.PrivateKey)
	}
	if !strings.Contains(cfg.JWT.PublicKey, "-----BEGIN") {
		rel(&cfg.JWT.PublicKey)
	}
	rel(cfg.JWT.Wordlist)
	rel(cfg.Options.LLMProbes)
	rel(cfg.Options.Baseline)
	rel(cfg.Options.IgnoreFile)
	rel(cfg.Options.CACert)
	rel(cfg.Options.ClientCert)
	rel(cfg.Options.ClientKey)
	return &cfg, nil
}

func expandAll(cfg *fileConfig) error {
	var first error
	exp := func(s *string) {
		if s == nil || first != nil {
			return
		}
		v, err := identity.ExpandEnv(*s)
		if err != nil {
			first = err
			return
		}
		*s = v
	}
	expList := func(l stringList) {
		for i := range l {
			exp(&l[i])
		}
	}
	expMap := func(m map[string]string) {
		for k, v := range m {
			exp(&v)
			m[k] = v
		}
	}
	exp(&cfg.Target)
	exp(&cfg.Spec)
	exp(&cfg.JWT.Secret)
	exp(&cfg.JWT.PrivateKey)
	exp(&cfg.JWT.PublicKey)
	exp(cfg.JWT.Wordlist)
	exp(cfg.JWT.ForeignToken)
	for i := range cfg.Identities {
		id := &cfg.Identities[i]
		exp(&id.Name)
		exp(&id.Role)
		expList(id.Tenant)
		expMap(id.Headers)
		expMap(id.Cookies)
		expMap(id.Query)
		if l := id.Login; l != nil {
			for _, s := range []*string{&l.Method, &l.URL, &l.Token, &l.TokenHeader, &l.TokenCookie, &l.Header} {
				exp(s)
			}
			expMap(l.Form)
			var err error
			if l.JSON, err = expandAny(l.JSON); err != nil && first == nil {
				first = err
			}
		}
	}
	o := &cfg.Options
	for _, s := range []*string{o.Depth, o.MaxDuration, o.ConnectTimeout, o.Timeout, o.Proxy, o.CACert, o.ClientCert, o.ClientKey, o.Format, o.HAR, o.FailOn, o.MinConfidence, o.OOBURL} {
		exp(s)
	}
	for _, l := range []stringList{o.AllowOrigin, o.Include, o.Exclude, o.Only, o.Skip, o.Header, o.Output} {
		expList(l)
	}
	return first
}

func expandAny(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return identity.ExpandEnv(x)
	case map[string]any:
		for k, val := range x {
			nv, err := expandAny(val)
			if err != nil {
				return nil, err
			}
			x[k] = nv
		}
	case []any:
		for i, val := range x {
			nv, err := expandAny(val)
			if err != nil {
				return nil, err
			}
			x[i] = nv
		}
	}
	return v, nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// toIdentities turns config identities into identity values.
func (c *fileConfig) toIdentities() ([]*identity.Identity, error) {
	var out []*identity.Identity
	for _, ic := range c.Identities {
		id := &identity.Identity{IDName: ic.Name, Role: ic.Role, Tenants: ic.Tenant}
		if len(ic.Headers) > 0 {
			id.Headers = map[string][]string{}
			for k, v := range ic.Headers {
				name, val, err := identity.ParseHeader(k + ": " + v)
				if err != nil {
					return nil, fmt.Errorf("identity %s: %w", ic.Name, err)
				}
				id.Headers[name] = []string{val}
			}
		}
		id.Cookies = ic.Cookies
		if len(ic.Query) > 0 {
			id.Query = map[string][]string{}
			for k, v := range ic.Query {
				id.Query[k] = []string{v}
			}
		}
		if l := ic.Login; l != nil {
			id.Login = &identity.Login{Method: l.Method, URL: l.URL, JSON: l.JSON, Form: l.Form, Token: l.Token, TokenHeader: l.TokenHeader, TokenCookie: l.TokenCookie, Header: l.Header}
		}
		out = append(out, id)
	}
	return out, nil
}
