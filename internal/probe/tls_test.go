package probe

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

func TestTLSOptions(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	try := func(cfg Config) error {
		cfg.Target = u
		tr, err := NewTransport(cfg)
		if err != nil {
			return err
		}
		cfg.Transport = tr
		c, err := New(cfg)
		if err != nil {
			return err
		}
		_, err = c.Do(context.Background(), &Request{URL: srv.URL})
		return err
	}
	if err := try(Config{}); err == nil {
		t.Fatal("an untrusted certificate was accepted")
	}
	if err := try(Config{Insecure: true}); err != nil {
		t.Fatalf("--insecure: %v", err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	if err := try(Config{CACertFile: ca}); err != nil {
		t.Fatalf("--ca-cert: %v", err)
	}
	if _, err := NewTransport(Config{CACertFile: filepath.Join(t.TempDir(), "none.pem")}); err == nil {
		t.Fatal("missing CA file accepted")
	}
	if _, err := NewTransport(Config{ClientCertFile: ca}); err == nil {
		t.Fatal("client cert without key accepted")
	}
}
