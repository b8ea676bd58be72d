package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks"
	"github.com/rampart-scan/rampart/internal/checks/llm"
	"github.com/rampart-scan/rampart/internal/engine"
	"github.com/rampart-scan/rampart/internal/gate"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/report"
	"github.com/rampart-scan/rampart/internal/scanner"
	"github.com/rampart-scan/rampart/internal/triage"
)

// scanFlags holds the raw scan flags.
type scanFlags struct {
	config      string
	spec        string
	authHeaders []string
	identities  []string
	tenants     []string
	roles       []string
	headers     []string

	active         bool
	depth          string
	rate           float64
	concurrency    int
	maxRequests    int
	maxDuration    time.Duration
	connectTimeout time.Duration
	timeout        time.Duration
	burst          int

	allowOrigins []string
	include      []string
	exclude      []string
	only         []string
	skip         []string

	proxy      string
	caCert     string
	insecure   bool
	clientCert string
	clientKey  string

	format        string
	sarifLocation string
	outputs       []string
	har           string
	dryRun        bool
	seed          uint64

	oobURL          string
	oobToken        string
	jwtSecret       string
	jwtPrivateKey   string
	jwtPublicKey    string
	jwtWordlist     string
	jwtForeignToken string
	jwtCrackTimeout time.Duration
	jwtLongLifetime time.Duration

	llmTier        string
	llmDelay       time.Duration
	llmMaxDuration time.Duration
	llmProbes      string

	baseline   string
	failOnNew  bool
	ignoreFile string

	failOn        string
	failUnder     int
	minConfidence string
}

func (f *scanFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "config file (YAML; flags override it)")
	fs.StringVar(&f.spec, "spec", "", "OpenAPI 3.x or Swagger 2.0 spec, file or URL")
	fs.StringArrayVarP(&f.authHeaders, "auth-header", "H", nil, "credential header 'Name: value' of the identity 'primary' (repeatable; @file reads lines)")
	fs.StringArrayVar(&f.identities, "identity", nil, "named identity 'NAME=Name: value' (repeatable)")
	fs.StringArrayVar(&f.tenants, "tenant", nil, "bind an identity to its tenant: NAME=ID[,ALIAS...]")
	fs.StringArrayVar(&f.roles, "role", nil, "an identity's role: NAME=user|admin (default user)")
	fs.StringArrayVar(&f.headers, "header", nil, "non-credential header 'Name: value' sent with every request")

	fs.BoolVar(&f.active, "active", false, "allow write probes (CONTRACTS §7)")
	fs.StringVar(&f.depth, "depth", "standard", "quick, standard or deep")
	fs.Float64Var(&f.rate, "rate", probe.DefaultRate, "requests per second per host (0 = unlimited)")
	fs.IntVar(&f.concurrency, "concurrency", probe.DefaultConcurrency, "requests in flight per host")
	fs.IntVar(&f.maxRequests, "max-requests", probe.DefaultMaxRequests, "request budget for the whole scan (0 = unlimited)")
	fs.DurationVar(&f.maxDuration, "max-duration", 15*time.Minute, "stop the scan after this long")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", probe.DefaultConnectTimeout, "TCP and TLS connect timeout")
	fs.DurationVar(&f.timeout, "timeout", probe.DefaultTimeout, "per-request timeout")
	fs.IntVar(&f.burst, "burst", probe.DefaultBurst, "size of a burst in the burst phase")

	fs.StringArrayVar(&f.allowOrigins, "allow-origin", nil, "further origin requests may go to, never with credentials (repeatable)")
	fs.StringArrayVar(&f.include, "include", nil, "test only matching operations: path glob, tag:NAME or op:operationId (repeatable)")
	fs.StringArrayVar(&f.exclude, "exclude", nil, "skip matching operations (repeatable)")
	fs.StringArrayVar(&f.only, "only", nil, "run only these rules: rule ID, prefix or category (repeatable)")
	fs.StringArrayVar(&f.skip, "skip", nil, "skip these rules: rule ID, prefix or category (repeatable)")

	fs.StringVar(&f.proxy, "proxy", "", "HTTP proxy URL (default: HTTPS_PROXY)")
	fs.StringVar(&f.caCert, "ca-cert", "", "extra CA certificate (PEM) to trust")
	fs.BoolVar(&f.insecure, "insecure", false, "do not verify TLS certificates")
	fs.StringVar(&f.clientCert, "client-cert", "", "TLS client certificate (PEM)")
	fs.StringVar(&f.clientKey, "client-key", "", "TLS client key (PEM)")

	fs.StringVar(&f.format, "format", "text", "report format on stdout: text, json, sarif, html, markdown, junit or github")
	fs.StringVar(&f.sarifLocation, "sarif-location", "", "repository file SARIF results point at when no local spec was given (default: the config file, else rampart.yaml)")
	fs.StringArrayVar(&f.outputs, "output", nil, "also write FORMAT=PATH (repeatable, atomic)")
	fs.StringVar(&f.har, "har", "", "write every exchange (redacted) to this HAR file")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan and send nothing")
	fs.Uint64Var(&f.seed, "seed", 0, "seed for sample values and random probes (0 = random)")

	fs.StringVar(&f.oobURL, "oob-url", "", "a public canary started with rampart oob (default: a listener on loopback)")
	fs.StringVar(&f.oobToken, "oob-token", "${RAMPART_OOB_TOKEN}", "the public canary's API token")
	fs.StringVar(&f.jwtSecret, "jwt-secret", "", "HMAC secret of the API's tokens, if you were given it (claims audits only)")
	fs.StringVar(&f.jwtPrivateKey, "jwt-private-key", "", "PEM private key of the API's tokens, if you were given it (claims audits only)")
	fs.StringVar(&f.jwtPublicKey, "jwt-public-key", "", "PEM public key of the API's tokens")
	fs.StringVar(&f.jwtWordlist, "jwt-wordlist", "", "extra HMAC secrets to try, one per line")
	fs.StringVar(&f.jwtForeignToken, "jwt-foreign-token", "", "a token issued by another service, to test cross-service reuse")
	fs.DurationVar(&f.jwtCrackTimeout, "jwt-crack-timeout", 20*time.Second, "time limit of the offline HMAC secret search")
	fs.DurationVar(&f.jwtLongLifetime, "jwt-long-lifetime", 24*time.Hour, "token lifetime above which jwt.long-lifetime is reported")

	fs.StringVar(&f.llmTier, "llm-tier", "", "LLM probe tier: quick, standard or deep (default: follows --depth)")
	fs.DurationVar(&f.llmDelay, "llm-delay", llm.DefaultDelay, "pause between two requests to one AI endpoint")
	fs.DurationVar(&f.llmMaxDuration, "llm-max-duration", llm.DefaultMaxDuration, "time limit of the LLM probes")
	fs.StringVar(&f.llmProbes, "llm-probes", "", "folder of extra LLM probe files (*.yaml, corpus format)")

	fs.StringVar(&f.failOn, "fail-on", "", "exit 1 when a finding of this severity or worse is found (critical, high, medium, low, info)")
	fs.StringVar(&f.baseline, "baseline", "", "an earlier JSON report: findings are marked new or unchanged, vanished ones fixed")
	fs.BoolVar(&f.failOnNew, "fail-on-new", false, "exit 1 on findings absent from --baseline (with --fail-on: new ones at or above it)")
	fs.StringVar(&f.ignoreFile, "ignore-file", "", "suppressions file (default .rampart-ignore.yaml when present)")
	fs.IntVar(&f.failUnder, "fail-under", 0, "exit 1 when the score is below this")
	fs.StringVar(&f.minConfidence, "min-confidence", "likely", "weakest confidence that counts for gates: confirmed, likely or possible")
}

func newScanCmd(stdout, stderr io.Writer) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan URL",
		Short: "Scan an API",
		Long:  "Scan the API at URL. Safe by default: only GET, HEAD and OPTIONS unless --active (see the README's safety table).",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef(fmt.Errorf("scan takes one URL, got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			url := ""
			if len(args) == 1 {
				url = args[0]
			}
			cfg, out, err := f.build(cmd.Flags(), url)
			if err != nil {
				return err
			}
			return runScan(cmd.Context(), cfg, out, stdout, stderr)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// outputPlan is where the report goes and which gates judge it.
type outputPlan struct {
	baseline *report.Report
	ignore   *triage.Ignore
	format   string
	outputs  [][2]string
	har      string
	gate     gate.Gate
	// sarifLocation is the repository file SARIF results point at without a local spec.
	sarifLocation string
}

// build merges the config file and the flags (flags win) into a scanner config.
func (f *scanFlags) build(fs *pflag.FlagSet, target string) (scanner.Config, outputPlan, error) {
	var cfg scanner.Config
	var out outputPlan
	var fc *fileConfig
	if f.config != "" {
		var err error
		if fc, err = loadConfig(f.config); err != nil {
			return cfg, out, usagef(err)
		}
	} else {
		fc = &fileConfig{}
	}
	o := fc.Options
	set := fs.Changed
	str := func(flag string, fv string, cv *string) string {
		if !set(flag) && cv != nil {
			return *cv
		}
		return fv
	}
	dur := func(flag string, fv time.Duration, cv *string) (time.Duration, error) {
		if !set(flag) && cv != nil {
			d, err := time.ParseDuration(*cv)
			if err != nil {
				return 0, usagef(fmt.Errorf("config option %s: %w", strings.ReplaceAll(flag, "-", "_"), err))
			}
			return d, nil
		}
		return fv, nil
	}
	list := func(flag string, fv []string, cv stringList) []string {
		if !set(flag) && len(cv) > 0 {
			return cv
		}
		return fv
	}
	boolOpt := func(flag string, fv bool, cv *bool) bool {
		if !set(flag) && cv != nil {
			return *cv
		}
		return fv
	}
	intOpt := func(flag string, fv int, cv *int) int {
		if !set(flag) && cv != nil {
			return *cv
		}
		return fv
	}
	expand := func(vals []string) ([]string, error) {
		out := make([]string, len(vals))
		for i, v := range vals {
			e, err := identity.ExpandEnv(v)
			if err != nil {
				return nil, usagef(err)
			}
			out[i] = e
		}
		return out, nil
	}

	if target == "" {
		target = fc.Target
	}
	if target == "" {
		return cfg, out, usagef(errors.New("scan needs a target URL (argument or 'target' in the config file)"))
	}
	var err error
	if target, err = identity.ExpandEnv(target); err != nil {
		return cfg, out, usagef(err)
	}
	cfg.Target = target
	cfg.SpecSource = fc.Spec
	if set("spec") {
		if cfg.SpecSource, err = identity.ExpandEnv(f.spec); err != nil {
			return cfg, out, usagef(err)
		}
	}

	cfg.Active = boolOpt("active", f.active, o.Active)
	depth, ok := check.ParseDepth(str("depth", f.depth, o.Depth))
	if !ok {
		return cfg, out, usagef(fmt.Errorf("--depth %q: want quick, standard or deep", str("depth", f.depth, o.Depth)))
	}
	cfg.Depth = depth
	cfg.Rate = f.rate
	if !set("rate") && o.Rate != nil {
		cfg.Rate = *o.Rate
	}
	cfg.Concurrency = intOpt("concurrency", f.concurrency, o.Concurrency)
	cfg.MaxRequests = intOpt("max-requests", f.maxRequests, o.MaxRequests)
	cfg.Burst = intOpt("burst", f.burst, o.Burst)
	if cfg.Rate < 0 || cfg.Concurrency < 1 || cfg.MaxRequests < 0 || cfg.Burst < 1 {
		return cfg, out, usagef(errors.New("--rate and --max-requests must be ≥ 0, --concurrency and --burst ≥ 1"))
	}
	if cfg.MaxDuration, err = dur("max-duration", f.maxDuration, o.MaxDuration); err != nil {
		return cfg, out, err
	}
	if cfg.ConnectTimeout, err = dur("connect-timeout", f.connectTimeout, o.ConnectTimeout); err != nil {
		return cfg, out, err
	}
	if cfg.Timeout, err = dur("timeout", f.timeout, o.Timeout); err != nil {
		return cfg, out, err
	}
	if cfg.MaxDuration <= 0 || cfg.ConnectTimeout <= 0 || cfg.Timeout <= 0 {
		return cfg, out, usagef(errors.New("--max-duration, --connect-timeout and --timeout must be positive"))
	}
	for _, p := range []struct {
		dst  *[]string
		flag string
		fv   []string
		cv   stringList
	}{
		{&cfg.AllowOrigins, "allow-origin", f.allowOrigins, o.AllowOrigin},
		{&cfg.Include, "include", f.include, o.Include},
		{&cfg.Exclude, "exclude", f.exclude, o.Exclude},
		{&cfg.Only, "only", f.only, o.Only},
		{&cfg.Skip, "skip", f.skip, o.Skip},
	} {
		if *p.dst, err = expand(list(p.flag, p.fv, p.cv)); err != nil {
			return cfg, out, err
		}
	}
	cfg.Proxy = str("proxy", f.proxy, o.Proxy)
	cfg.CACert = str("ca-cert", f.caCert, o.CACert)
	cfg.Insecure = boolOpt("insecure", f.insecure, o.Insecure)
	cfg.ClientCert = str("client-cert", f.clientCert, o.ClientCert)
	cfg.ClientKey = str("client-key", f.clientKey, o.ClientKey)
	cfg.DryRun = boolOpt("dry-run", f.dryRun, o.DryRun)
	cfg.Seed = f.seed
	if !set("seed") && o.Seed != nil {
		cfg.Seed = *o.Seed
	}

	// Non-credential headers for everyone.
	hdrs, err := expand(list("header", f.headers, o.Header))
	if err != nil {
		return cfg, out, err
	}
	cfg.ExtraHeaders = http.Header{}
	for _, h := range hdrs {
		name, val, err := identity.ParseHeader(h)
		if err != nil {
			return cfg, out, usagef(fmt.Errorf("--header: %w", err))
		}
		cfg.ExtraHeaders.Add(name, val)
	}

	// Identities: config first, flags replace same names.
	ids, err := fc.toIdentities()
	if err != nil {
		return cfg, out, usagef(err)
	}
	flagIDs, err := f.flagIdentities()
	if err != nil {
		return cfg, out, err
	}
	ids = mergeIdentities(ids, flagIDs)
	if err := f.applyTenantsAndRoles(ids); err != nil {
		return cfg, out, err
	}
	cfg.Identities = ids

	// Output.
	out.format = str("format", f.format, o.Format)
	if err := checkFormat(out.format); err != nil {
		return cfg, out, err
	}
	if out.outputs, err = parseOutputs(list("output", f.outputs, o.Output)); err != nil {
		return cfg, out, err
	}
	out.har = str("har", f.har, o.HAR)
	out.sarifLocation = str("sarif-location", f.sarifLocation, o.SARIFLocation)
	if out.sarifLocation == "" && f.config != "" && !filepath.IsAbs(f.config) { // a repository-relative config file
		out.sarifLocation = f.config
	}
	cfg.HAR = out.har != ""

	// Out-of-band canary.
	cfg.OOBURL = str("oob-url", f.oobURL, o.OOBURL)
	if cfg.OOBURL != "" {
		tok := str("oob-token", f.oobToken, o.OOBToken)
		if cfg.OOBToken, err = identity.ExpandEnv(tok); err != nil {
			return cfg, out, usagef(fmt.Errorf("--oob-token: %w", err))
		}
	}

	// JWT key material.
	cfg.JWT.Secret = fc.JWT.Secret
	if set("jwt-secret") {
		if cfg.JWT.Secret, err = identity.ExpandEnv(f.jwtSecret); err != nil {
			return cfg, out, usagef(err)
		}
	}
	for _, k := range []struct {
		flag, fv, cv string
		dst          *[]byte
	}{{"jwt-private-key", f.jwtPrivateKey, fc.JWT.PrivateKey, &cfg.JWT.PrivateKeyPEM}, {"jwt-public-key", f.jwtPublicKey, fc.JWT.PublicKey, &cfg.JWT.PublicKeyPEM}} {
		v := k.cv
		if set(k.flag) {
			v = k.fv
		}
		if v == "" {
			continue
		}
		if strings.Contains(v, "-----BEGIN") {
			*k.dst = []byte(v)
			continue
		}
		data, err := os.ReadFile(v)
		if err != nil {
			return cfg, out, usagef(fmt.Errorf("--%s: %w", k.flag, unwrapPath(err)))
		}
		if !strings.Contains(string(data), "-----BEGIN") {
			return cfg, out, usagef(fmt.Errorf("--%s %s: not a PEM file", k.flag, v))
		}
		*k.dst = data
	}

	if v := str("jwt-wordlist", f.jwtWordlist, fc.JWT.Wordlist); v != "" {
		data, err := os.ReadFile(v)
		if err != nil {
			return cfg, out, usagef(fmt.Errorf("--jwt-wordlist: %w", unwrapPath(err)))
		}
		cfg.JWT.Wordlist = data
	}
	cfg.JWT.ForeignToken = str("jwt-foreign-token", f.jwtForeignToken, fc.JWT.ForeignToken)
	if cfg.JWT.CrackTimeout, err = dur("jwt-crack-timeout", f.jwtCrackTimeout, fc.JWT.CrackTimeout); err != nil {
		return cfg, out, err
	}
	if cfg.JWT.LongLifetime, err = dur("jwt-long-lifetime", f.jwtLongLifetime, fc.JWT.LongLifetime); err != nil {
		return cfg, out, err
	}

	// LLM probes.
	cfg.LLM.Tier = str("llm-tier", f.llmTier, o.LLMTier)
	if _, ok := check.ParseDepth(cfg.LLM.Tier); cfg.LLM.Tier != "" && !ok {
		return cfg, out, usagef(fmt.Errorf("--llm-tier %q: want quick, standard or deep", cfg.LLM.Tier))
	}
	if cfg.LLM.Delay, err = dur("llm-delay", f.llmDelay, o.LLMDelay); err != nil {
		return cfg, out, err
	}
	if cfg.LLM.MaxDuration, err = dur("llm-max-duration", f.llmMaxDuration, o.LLMMaxDuration); err != nil {
		return cfg, out, err
	}
	if cfg.LLM.Delay < 0 || cfg.LLM.MaxDuration <= 0 {
		return cfg, out, usagef(errors.New("--llm-delay must be ≥ 0 and --llm-max-duration positive"))
	}
	cfg.LLM.ProbesDir = str("llm-probes", f.llmProbes, o.LLMProbes)
	if _, err := llm.Corpus(cfg.LLM.ProbesDir); err != nil {
		return cfg, out, usagef(err)
	}

	// Gates.
	if v := str("fail-on", f.failOn, o.FailOn); v != "" {
		sev, err := check.ParseSeverity(v)
		if err != nil {
			return cfg, out, usagef(fmt.Errorf("--fail-on: %w", err))
		}
		out.gate.FailOn = &sev
	}
	if set("fail-under") || o.FailUnder != nil {
		n := intOpt("fail-under", f.failUnder, o.FailUnder)
		if n < 0 || n > 100 {
			return cfg, out, usagef(fmt.Errorf("--fail-under %d: want 0-100", n))
		}
		out.gate.FailUnder = &n
	}
	conf, err := check.ParseConfidence(str("min-confidence", f.minConfidence, o.MinConfidence))
	if err != nil {
		return cfg, out, usagef(fmt.Errorf("--min-confidence: %w", err))
	}
	out.gate.MinConfidence = conf

	// Baseline and suppressions.
	if p := str("baseline", f.baseline, o.Baseline); p != "" {
		fh, err := os.Open(p)
		if err != nil {
			return cfg, out, usagef(fmt.Errorf("--baseline: %w", unwrapPath(err)))
		}
		out.baseline, err = report.ReadJSON(fh)
		fh.Close()
		if err != nil {
			return cfg, out, usagef(fmt.Errorf("--baseline %s: not a Rampart JSON report: %s", p, oneLine(err.Error())))
		}
	}
	out.gate.FailOnNew = boolOpt("fail-on-new", f.failOnNew, o.FailOnNew)
	if out.gate.FailOnNew && out.baseline == nil {
		return cfg, out, usagef(errors.New("--fail-on-new needs --baseline"))
	}
	ignore := str("ignore-file", f.ignoreFile, o.IgnoreFile)
	if ignore == "" {
		if _, err := os.Stat(".rampart-ignore.yaml"); err == nil {
			ignore = ".rampart-ignore.yaml"
		}
	}
	if ignore != "" {
		if out.ignore, err = triage.LoadIgnore(ignore); err != nil {
			return cfg, out, usagef(err)
		}
	}
	return cfg, out, nil
}

// flagIdentities builds identities from -H and --identity.
func (f *scanFlags) flagIdentities() ([]*identity.Identity, error) {
	byName := map[string]*identity.Identity{}
	var order []string
	add := func(name, header string) error {
		hname, val, err := identity.ParseHeader(header)
		if err != nil {
			return usagef(fmt.Errorf("identity %s: %w", name, err))
		}
		id, ok := byName[name]
		if !ok {
			id = &identity.Identity{IDName: name, Headers: http.Header{}}
			byName[name] = id
			order = append(order, name)
		}
		id.Headers.Add(hname, val)
		return nil
	}
	for _, h := range f.authHeaders {
		h, err := identity.ExpandEnv(h)
		if err != nil {
			return nil, usagef(err)
		}
		lines := []string{h}
		if strings.HasPrefix(h, "@") {
			if lines, err = identity.HeaderLines(strings.TrimPrefix(h, "@")); err != nil {
				return nil, usagef(err)
			}
		}
		for _, l := range lines {
			if err := add("primary", l); err != nil {
				return nil, err
			}
		}
	}
	for _, v := range f.identities {
		v, err := identity.ExpandEnv(v)
		if err != nil {
			return nil, usagef(err)
		}
		name, header, ok := strings.Cut(v, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usagef(fmt.Errorf("--identity %q: want NAME=Name: value", v))
		}
		if err := add(strings.TrimSpace(name), header); err != nil {
			return nil, err
		}
	}
	var out []*identity.Identity
	for _, n := range order {
		out = append(out, byName[n])
	}
	return out, nil
}

// mergeIdentities: a flag identity replaces a config identity of the same name (keeping its role and tenants), new names add.
func mergeIdentities(base, over []*identity.Identity) []*identity.Identity {
	out := append([]*identity.Identity(nil), base...)
	for _, o := range over {
		replaced := false
		for i, b := range out {
			if b.IDName == o.IDName {
				if o.Role == "" {
					o.Role = b.Role
				}
				if o.Tenants == nil {
					o.Tenants = b.Tenants
				}
				out[i] = o
				replaced = true
			}
		}
		if !replaced {
			out = append(out, o)
		}
	}
	return out
}

func (f *scanFlags) applyTenantsAndRoles(ids []*identity.Identity) error {
	find := func(name, flag string) (*identity.Identity, error) {
		for _, id := range ids {
			if id.IDName == name {
				return id, nil
			}
		}
		return nil, usagef(fmt.Errorf("%s names identity %q, which is not defined", flag, name))
	}
	for _, v := range f.tenants {
		name, list, ok := strings.Cut(v, "=")
		if !ok || list == "" {
			return usagef(fmt.Errorf("--tenant %q: want NAME=ID[,ALIAS...]", v))
		}
		id, err := find(name, "--tenant")
		if err != nil {
			return err
		}
		id.Tenants = nil
		for _, t := range strings.Split(list, ",") {
			if t = strings.TrimSpace(t); t != "" {
				id.Tenants = append(id.Tenants, t)
			}
		}
	}
	for _, v := range f.roles {
		name, role, ok := strings.Cut(v, "=")
		if !ok {
			return usagef(fmt.Errorf("--role %q: want NAME=user|admin", v))
		}
		if role != identity.RoleUser && role != identity.RoleAdmin {
			return usagef(fmt.Errorf("--role %q: role must be user or admin", v))
		}
		id, err := find(name, "--role")
		if err != nil {
			return err
		}
		id.Role = role
	}
	return nil
}

// runScan runs the scan and writes its outputs; the report is written before the exit code is decided.
func runScan(ctx context.Context, cfg scanner.Config, out outputPlan, stdout, stderr io.Writer) error {
	fams := checks.All()
	cat, err := checks.Catalogue(fams)
	if err != nil {
		return err
	}
	cfg.Checks, cfg.Catalogue, cfg.Version = fams, cat, Version
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg.Progress = progressPrinter(stderr)
	res, err := scanner.Run(ctx, cfg)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			fmt.Fprintln(stderr, "rampart: interrupted before the checks ran")
			return exitError{ExitInterrupted}
		}
		return err
	}
	if res.DryRun != nil {
		if out.format == "json" {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(res.DryRun)
		}
		return writeDryRun(stdout, res.DryRun)
	}
	rep := res.Report
	if out.baseline != nil {
		triage.ApplyBaseline(rep, out.baseline)
	}
	if out.ignore != nil {
		rep.Warnings = append(rep.Warnings, out.ignore.Apply(rep, time.Now())...)
	}
	ropts := report.RenderOptions{Color: useColor(stdout), Rules: cat.Rules(), SARIFLocation: out.sarifLocation, FailOn: out.gate.FailOn}
	if err := render(stdout, out.format, rep, ropts); err != nil {
		return err
	}
	ropts.Color = false
	for _, o := range out.outputs {
		if err := writeAtomic(o[1], func(w io.Writer) error { return render(w, o[0], rep, ropts) }); err != nil {
			return err
		}
	}
	if out.har != "" && res.HAR != nil {
		if err := writeAtomic(out.har, func(w io.Writer) error { return res.HAR.Write(w, Version) }); err != nil {
			return err
		}
	}
	interrupted := errors.Is(ctx.Err(), context.Canceled)
	failures := out.gate.Evaluate(rep)
	for _, f := range failures {
		fmt.Fprintf(stderr, "rampart: gate failed: %s\n", f)
	}
	if res.Incomplete && !interrupted {
		fmt.Fprintln(stderr, "rampart: scan incomplete (see the families' statuses and warnings)")
	}
	if code := outcomeCode(interrupted, len(failures) > 0, res.Incomplete); code != ExitOK {
		return exitError{code}
	}
	return nil
}

func writeDryRun(w io.Writer, d *scanner.DryRun) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Dry run: nothing was sent to %s\n\n", d.Target)
	if d.Discovery != "" {
		fmt.Fprintf(&b, "%s\n\n", d.Discovery)
	}
	fmt.Fprintf(&b, "Operations (%d):\n", len(d.Operations))
	for _, o := range d.Operations {
		cls := ""
		if o.Class != "" {
			cls = "  [" + o.Class + "]"
		}
		fmt.Fprintf(&b, "  %-7s %s%s\n", o.Method, o.Path, cls)
	}
	if len(d.Skipped) > 0 {
		fmt.Fprintf(&b, "\nSkipped (%d):\n", len(d.Skipped))
		for _, s := range d.Skipped {
			fmt.Fprintf(&b, "  %-7s %s  (%s)\n", s.Method, s.Path, s.Reason)
		}
	}
	fmt.Fprintf(&b, "\nIdentities: anonymous")
	for _, id := range d.Identities {
		fmt.Fprintf(&b, ", %s (%s)", id.Name, id.Role)
	}
	fmt.Fprintf(&b, "\nFamilies (%d): %s\nRequest estimate: about %d\n", len(d.Families), strings.Join(d.Families, ", "), d.Estimate)
	_, err := io.WriteString(w, b.String())
	return err
}

// progressPrinter writes one line per phase, finding and finished family to stderr.
func progressPrinter(w io.Writer) func(engine.Event) {
	return func(ev engine.Event) {
		switch ev.Kind {
		case "phase":
			fmt.Fprintf(w, "rampart: phase %s\n", ev.Phase)
		case "finding":
			f := ev.Finding
			fmt.Fprintf(w, "rampart: found %s %s %s %s (%s)\n", strings.ToUpper(f.Severity.String()), f.Rule, f.Method, f.Path, f.Confidence)
		case "family-done":
			r := ev.Result
			line := fmt.Sprintf("rampart: %s %s, %d requests", r.ID, r.Status, r.Requests)
			if r.Reason != "" {
				line += ": " + r.Reason
			}
			fmt.Fprintln(w, line)
		}
	}
}
