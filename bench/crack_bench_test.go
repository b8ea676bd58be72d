package bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/jwt"
)

// tokenWithInput signs a token whose signing input is about 200 bytes.
func tokenWithInput(b *testing.B, alg string) *jwt.Token {
	claims := map[string]any{"sub": "bench@example.com", "aud": "bench-api", "iss": "https://login.example.com", "role": "member", "pad": strings.Repeat("x", 40)}
	raw, err := jwt.Sign(alg, map[string]any{"typ": "JWT"}, claims, jwt.Key{Secret: []byte("not-in-the-list")})
	if err != nil {
		b.Fatal(err)
	}
	t, _ := jwt.Parse(raw)
	return t
}

// generated is n distinct candidates, none of them the secret.
type generated int

func (g generated) Len() int { return int(g) }
func (g generated) At(i int, buf []byte) []byte {
	buf = append(buf, "cand-00000000"...)
	for j := len(buf) - 1; i > 0 && j >= 5; j-- {
		buf[j] = byte('0' + i%10)
		i /= 10
	}
	return buf
}

// BenchmarkCrack reports HMAC guesses per second on every core, per algorithm.
func BenchmarkCrack(b *testing.B) {
	for _, alg := range []string{"HS256", "HS384", "HS512"} {
		b.Run(alg, func(b *testing.B) {
			tok := tokenWithInput(b, alg)
			b.ReportMetric(float64(len(tok.SigningInput)), "input-bytes")
			b.ResetTimer()
			r := jwt.Crack(context.Background(), tok, generated(b.N), time.Hour)
			if r.Found {
				b.Fatal("found a secret that is not there")
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "guesses/s")
		})
	}
}

// BenchmarkCrackMillion is the time to exhaust a 1,000,000-entry list (HS256).
func BenchmarkCrackMillion(b *testing.B) {
	tok := tokenWithInput(b, "HS256")
	for i := 0; i < b.N; i++ {
		jwt.Crack(context.Background(), tok, generated(1_000_000), time.Hour)
	}
}

// BenchmarkPlainHMAC is the baseline: crypto/hmac with a new MAC per guess, one goroutine.
func BenchmarkPlainHMAC(b *testing.B) {
	tok := tokenWithInput(b, "HS256")
	input := []byte(tok.SigningInput)
	var buf []byte
	g := generated(b.N)
	for i := 0; i < b.N; i++ {
		buf = g.At(i, buf[:0])
		m := hmac.New(sha256.New, buf)
		m.Write(input)
		if hmac.Equal(m.Sum(nil), tok.Signature) {
			b.Fatal("found")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "guesses/s")
}
