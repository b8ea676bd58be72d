package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// JWK is one JSON Web Key (public parts only).
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// PublicKey is a key from a JWKS or a PEM file.
type PublicKey struct {
	Kid string
	Key crypto.PublicKey
}

// ParseJWKS reads the public keys of a JWK Set; unusable keys are skipped.
func ParseJWKS(data []byte) ([]PublicKey, error) {
	var set struct {
		Keys []JWK `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("not a JWKS: %w", err)
	}
	var out []PublicKey
	for _, k := range set.Keys {
		switch k.Kty {
		case "RSA":
			n, err1 := bigFromB64(k.N)
			e, err2 := bigFromB64(k.E)
			if err1 != nil || err2 != nil || n.Sign() <= 0 || !e.IsInt64() || e.Int64() < 3 || n.BitLen() < 512 || n.BitLen() > 16384 {
				continue
			}
			out = append(out, PublicKey{Kid: k.Kid, Key: &rsa.PublicKey{N: n, E: int(e.Int64())}})
		case "EC":
			var curve elliptic.Curve
			switch k.Crv {
			case "P-256":
				curve = elliptic.P256()
			case "P-384":
				curve = elliptic.P384()
			case "P-521":
				curve = elliptic.P521()
			default:
				continue
			}
			x, err1 := bigFromB64(k.X)
			y, err2 := bigFromB64(k.Y)
			if err1 != nil || err2 != nil {
				continue
			}
			pub := &ecdsa.PublicKey{Curve: curve, X: x, Y: y}
			if _, err := pub.ECDH(); err != nil {
				continue // not on the curve
			}
			out = append(out, PublicKey{Kid: k.Kid, Key: pub})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no usable RSA or EC keys")
	}
	return out, nil
}

// ParsePublicKeyPEM reads a PEM public key or certificate.
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	switch block.Type {
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		return c.PublicKey, nil
	}
	return x509.ParsePKIXPublicKey(block.Bytes)
}

// ConfusionSecrets lists the byte strings a confused verifier may use as the
// HMAC secret for a public key: PKIX and PKCS#1 PEM, with and without the
// trailing newline, with CRLF line ends, and the raw DER.
func ConfusionSecrets(pub crypto.PublicKey) [][]byte {
	var out [][]byte
	add := func(typ string, der []byte) {
		p := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
		out = append(out, p, []byte(strings.TrimRight(string(p), "\n")), []byte(strings.ReplaceAll(string(p), "\n", "\r\n")))
	}
	if der, err := x509.MarshalPKIXPublicKey(pub); err == nil {
		add("PUBLIC KEY", der)
		out = append(out, der)
	}
	if k, ok := pub.(*rsa.PublicKey); ok {
		add("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(k))
	}
	return out
}

// PublicJWK renders an RSA public key as a JWK (for jku/x5u probes served by the canary).
func PublicJWK(k *rsa.PublicKey, kid string) JWK {
	e := big.NewInt(int64(k.E))
	return JWK{Kty: "RSA", Kid: kid, Alg: "RS256", Use: "sig", N: b64.EncodeToString(k.N.Bytes()), E: b64.EncodeToString(e.Bytes())}
}
