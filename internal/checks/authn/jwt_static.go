package authn

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/jwt"
	"github.com/rampart-scan/rampart/internal/probe"
)

var sensitiveClaim = regexp.MustCompile(`(?i)pass(word)?|pwd|hash|secret|private|ssn|social_security|card_?number|cvv|api_?key|access_?key|credit_?card|salary|dob|date_of_birth`)

// holderClaims are the holder's own identifiers: never sensitive.
var holderClaims = map[string]bool{"sub": true, "email": true, "name": true, "preferred_username": true, "username": true, "upn": true}

// static checks a token's claims once per issuer and algorithm.
func (f *JWTFamily) static(s *check.Scan, tok *jwt.Token, holder *identity.Identity) {
	key := "static " + tok.String("iss") + " " + tok.Alg() + " " + tok.Kid() + " " + claimNames(tok)
	if !f.once(key) {
		return
	}
	who := ""
	if holder != nil {
		who = holder.Name()
	}
	note := func(msg string) []check.Evidence {
		return []check.Evidence{{Kind: check.EvidenceNote, Identity: who, Note: msg}}
	}
	iat, hasIat := tok.Time("iat")
	exp, hasExp := tok.Time("exp")
	if !hasExp && s.Enabled(RuleMissingExp) {
		s.Report(check.Finding{Rule: RuleMissingExp, Severity: check.Medium, Confidence: check.Confirmed, Method: "*", Path: "*", Identity: who,
			Detail: fmt.Sprintf("Tokens from %s carry no exp claim: a stolen token works forever.", issuerName(tok)), Evidence: note("claims: " + claimNames(tok))})
	}
	limit := s.Options.JWT.LongLifetime
	if limit <= 0 {
		limit = 24 * time.Hour
	}
	if hasExp && s.Enabled(RuleLongLifetime) {
		start := time.Now()
		if hasIat {
			start = iat
		}
		if life := exp.Sub(start); life > limit {
			s.Report(check.Finding{Rule: RuleLongLifetime, Severity: check.Low, Confidence: check.Confirmed, Method: "*", Path: "*", Identity: who,
				Detail:   fmt.Sprintf("Tokens from %s live %s (threshold %s).", issuerName(tok), life.Round(time.Minute), limit),
				Evidence: note(fmt.Sprintf("iat %s, exp %s", start.UTC().Format(time.RFC3339), exp.UTC().Format(time.RFC3339)))})
		}
	}
	if s.Enabled(RuleSensitiveClaims) {
		var found []string
		for k, v := range tok.Claims {
			if holderClaims[k] || !sensitiveClaim.MatchString(k) {
				continue
			}
			if str, ok := v.(string); ok && str == "" {
				continue
			}
			found = append(found, k)
		}
		sort.Strings(found)
		if len(found) > 0 {
			s.Report(check.Finding{Rule: RuleSensitiveClaims, Severity: check.Medium, Confidence: check.Confirmed, Method: "*", Path: "*", Identity: who,
				Detail:   fmt.Sprintf("Tokens from %s carry %s in their readable payload.", issuerName(tok), strings.Join(found, ", ")),
				Evidence: note("sensitive claims: " + strings.Join(found, ", ") + " (values withheld)")})
		}
	}
}

func issuerName(tok *jwt.Token) string {
	if iss := tok.String("iss"); iss != "" {
		return iss
	}
	return "this API"
}

func claimNames(tok *jwt.Token) string {
	var names []string
	for k := range tok.Claims {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

var urlWithToken = regexp.MustCompile(`https?://[^\s"'<>]*[?&#][A-Za-z0-9_.-]*=` + jwt.Pattern.String())

// Observe finds tokens in redirect locations and in URLs inside responses, and checks tokens that responses hand out.
func (f *JWTFamily) Observe(s *check.Scan, ex *probe.Exchange) {
	if s.Enabled(RuleTokenInURL) {
		where := ""
		if loc := ex.Header.Get("Location"); loc != "" && jwt.Pattern.MatchString(loc) && strings.ContainsAny(loc, "?#") {
			where = "the Location header"
		} else if m := urlWithToken.Find(ex.Body[:min(len(ex.Body), 256<<10)]); m != nil {
			where = "a URL in the response body"
		}
		if where != "" {
			path := check.TemplatePath(s.RelPath(ex))
			if o := s.Plan.Find(ex.Method, s.RelPath(ex)); o != nil {
				path = o.Path
			}
			if f.once("url " + ex.Method + " " + path) {
				s.Report(check.Finding{Rule: RuleTokenInURL, Severity: check.Medium, Confidence: check.Confirmed, Method: ex.Method, Path: path, Identity: ex.Identity,
					Detail: "A token travels in " + where + ", where logs, proxies and Referer headers keep it.", Evidence: []check.Evidence{s.Evidence(ex, "token in "+where)}, Curl: s.Curl(ex)})
			}
		}
	}
	if !check.OK(ex.Status) || len(ex.Body) == 0 {
		return
	}
	for _, m := range jwt.Pattern.FindAll(ex.Body[:min(len(ex.Body), 64<<10)], 3) {
		if tok, err := jwt.Parse(string(m)); err == nil {
			f.static(s, tok, s.Identities.Get(ex.Identity))
		}
	}
}
