package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"
)

// Key is signing material: an HMAC secret or a private key.
type Key struct {
	Secret  []byte
	Private crypto.Signer
}

// HMACHash returns the hash constructor for HS256/384/512.
func HMACHash(alg string) (func() hash.Hash, bool) {
	switch strings.ToUpper(alg) {
	case "HS256":
		return sha256.New, true
	case "HS384":
		return sha512.New384, true
	case "HS512":
		return sha512.New, true
	}
	return nil, false
}

func digest(alg string, input []byte) (crypto.Hash, []byte, error) {
	var h crypto.Hash
	switch alg[2:] {
	case "256":
		h = crypto.SHA256
	case "384":
		h = crypto.SHA384
	case "512":
		h = crypto.SHA512
	default:
		return 0, nil, fmt.Errorf("unsupported alg %q", alg)
	}
	hh := h.New()
	hh.Write(input)
	return h, hh.Sum(nil), nil
}

// Sign signs header.claims with alg (HS*, RS*, PS*, ES*), setting header alg.
func Sign(alg string, header, claims map[string]any, key Key) (string, error) {
	header = cloneMap(header)
	header["alg"] = alg
	input, err := Encode(header, claims)
	if err != nil {
		return "", err
	}
	sig, err := signInput(alg, []byte(input), key)
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

func signInput(alg string, input []byte, key Key) ([]byte, error) {
	alg = strings.ToUpper(alg)
	if len(alg) != 5 {
		return nil, fmt.Errorf("unsupported alg %q", alg)
	}
	if hf, ok := HMACHash(alg); ok {
		m := hmac.New(hf, key.Secret)
		m.Write(input)
		return m.Sum(nil), nil
	}
	if key.Private == nil {
		return nil, errors.New("no private key")
	}
	h, sum, err := digest(alg, input)
	if err != nil {
		return nil, err
	}
	switch alg[:2] {
	case "RS":
		k, ok := key.Private.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("RS* needs an RSA key")
		}
		return rsa.SignPKCS1v15(rand.Reader, k, h, sum)
	case "PS":
		k, ok := key.Private.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("PS* needs an RSA key")
		}
		return rsa.SignPSS(rand.Reader, k, h, sum, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES":
		k, ok := key.Private.(*ecdsa.PrivateKey)
		if !ok {
			return nil, errors.New("ES* needs an EC key")
		}
		r, s, err := ecdsa.Sign(rand.Reader, k, sum)
		if err != nil {
			return nil, err
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out, nil
	}
	return nil, fmt.Errorf("unsupported alg %q", alg)
}

// NoneVariants are unsigned tokens: alg none in four spellings, with and without the trailing dot.
func NoneVariants(header, claims map[string]any) []string {
	var out []string
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		h := cloneMap(header)
		h["alg"] = alg
		delete(h, "kid")
		input, err := Encode(h, claims)
		if err != nil {
			continue
		}
		out = append(out, input+".", input)
	}
	return out
}

// Corrupted returns the token with a changed signature and with an empty one.
func Corrupted(t *Token) []string {
	if len(t.Signature) == 0 {
		return nil
	}
	sig := append([]byte(nil), t.Signature...)
	sig[len(sig)/2] ^= 0x5a
	sig[0] ^= 0x01
	return []string{t.SigningInput + "." + b64.EncodeToString(sig), t.SigningInput + "."}
}

// ParsePrivateKey reads a PEM private key (PKCS#1, PKCS#8 or SEC 1).
func ParsePrivateKey(pemBytes []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("unsupported private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("unsupported private key type")
	}
	return s, nil
}

// AlgFor returns the natural alg for a private key.
func AlgFor(k crypto.Signer) string {
	switch x := k.(type) {
	case *ecdsa.PrivateKey:
		switch x.Curve.Params().BitSize {
		case 384:
			return "ES384"
		case 521:
			return "ES512"
		}
		return "ES256"
	}
	return "RS256"
}

// bigFromB64 decodes a JWK integer.
func bigFromB64(s string) (*big.Int, error) {
	b, err := decodeSegment(s)
	if err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(b), nil
}
