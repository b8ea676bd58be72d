package jwt

import (
	"bytes"
	"context"
	"hash"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Candidates is an indexed source of secrets; At appends candidate i to buf
// (so a cracker can reuse one buffer and allocate nothing per guess).
type Candidates interface {
	Len() int
	At(i int, buf []byte) []byte
}

// List is a plain list of candidates.
type List [][]byte

// Len is the number of candidates.
func (l List) Len() int { return len(l) }

// At appends candidate i to buf.
func (l List) At(i int, buf []byte) []byte { return append(buf, l[i]...) }

// ListFromLines makes a List from text, one secret per line (blank lines skipped, CR trimmed).
func ListFromLines(data []byte) List {
	var out List
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > 0 {
			out = append(out, line)
		}
	}
	return out
}

// Chain joins candidate sources.
type Chain []Candidates

// Len is the total.
func (c Chain) Len() int {
	n := 0
	for _, x := range c {
		n += x.Len()
	}
	return n
}

// At finds candidate i across the sources.
func (c Chain) At(i int, buf []byte) []byte {
	for _, x := range c {
		if i < x.Len() {
			return x.At(i, buf)
		}
		i -= x.Len()
	}
	return buf
}

// Result is how a crack ended.
type Result struct {
	Secret   string
	Found    bool
	Tried    int64
	Total    int
	TimedOut bool
	Elapsed  time.Duration
}

// Crack searches candidates for the HMAC secret of an HS256/384/512 token, on
// every core, until found, exhausted, ctx ends or timeout passes.
func Crack(ctx context.Context, t *Token, cands Candidates, timeout time.Duration) Result {
	start := time.Now()
	newHash, ok := HMACHash(t.Alg())
	total := cands.Len()
	if !ok || len(t.Signature) == 0 || total == 0 {
		return Result{Total: total}
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	workers := runtime.GOMAXPROCS(0)
	var tried atomic.Int64
	var found atomic.Bool
	var secret string
	var mu sync.Mutex
	var wg sync.WaitGroup
	chunk := (total + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, total)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newCracker(newHash, []byte(t.SigningInput), t.Signature)
			var buf []byte
			for i := lo; i < hi; i++ {
				if (i-lo)&1023 == 0 {
					tried.Add(1024)
					if found.Load() || ctx.Err() != nil {
						return
					}
				}
				buf = cands.At(i, buf[:0])
				if c.try(buf) {
					found.Store(true)
					mu.Lock()
					secret = string(buf)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	r := Result{Total: total, Tried: min(tried.Load(), int64(total)), Elapsed: time.Since(start)}
	if found.Load() {
		r.Found, r.Secret = true, secret
	} else if ctx.Err() != nil {
		r.TimedOut = true
	} else {
		r.Tried = int64(total)
	}
	return r
}

// cracker computes HMAC(key, input) with preallocated pads and digests.
type cracker struct {
	h, kh      hash.Hash
	block      int
	input, sig []byte
	ipad, opad []byte
	inner, out []byte
}

func newCracker(newHash func() hash.Hash, input, sig []byte) *cracker {
	h := newHash()
	bs := h.BlockSize()
	return &cracker{
		h: h, kh: newHash(), block: bs, input: input, sig: sig,
		ipad: make([]byte, bs), opad: make([]byte, bs),
		inner: make([]byte, 0, h.Size()), out: make([]byte, 0, h.Size()),
	}
}

// try reports whether key produces the signature.
func (c *cracker) try(key []byte) bool {
	if len(key) > c.block {
		c.kh.Reset()
		c.kh.Write(key)
		key = c.kh.Sum(c.out[:0])
	}
	n := copy(c.ipad, key)
	for i := 0; i < n; i++ {
		c.opad[i] = key[i] ^ 0x5c
		c.ipad[i] = key[i] ^ 0x36
	}
	for i := n; i < c.block; i++ {
		c.ipad[i], c.opad[i] = 0x36, 0x5c
	}
	c.h.Reset()
	c.h.Write(c.ipad)
	c.h.Write(c.input)
	c.inner = c.h.Sum(c.inner[:0])
	c.h.Reset()
	c.h.Write(c.opad)
	c.h.Write(c.inner)
	c.out = c.h.Sum(c.out[:0])
	return bytes.Equal(c.out, c.sig)
}

// Redact shows a recovered secret as its first and last character.
func Redact(secret string) string {
	switch len(secret) {
	case 0:
		return "(empty)"
	case 1, 2:
		return strings.Repeat("*", len(secret))
	}
	return secret[:1] + strings.Repeat("*", min(len(secret)-2, 8)) + secret[len(secret)-1:]
}
