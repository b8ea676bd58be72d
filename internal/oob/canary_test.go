package oob

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestCanaryHitsAndWait(t *testing.T) {
	c, err := Start("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tok := c.NewToken()
	if tok2 := c.NewToken(); tok == tok2 {
		t.Fatal("tokens must be unique")
	}
	if _, ok := c.Wait(context.Background(), tok, 50*time.Millisecond); ok {
		t.Fatal("hit before any request")
	}
	c.Respond(tok, Response{Status: 200, ContentType: "application/json", Body: []byte(`{"x":1}`)})
	go func() {
		time.Sleep(20 * time.Millisecond)
		resp, err := http.Get(c.URL(tok) + "?q=1")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != `{"x":1}` {
				t.Errorf("canned response: %s", b)
			}
		}
	}()
	hit, ok := c.Wait(context.Background(), tok, 2*time.Second)
	if !ok || hit.Method != "GET" || hit.TLS {
		t.Fatalf("wait: %+v %v", hit, ok)
	}
	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	tok3 := c.NewToken()
	resp, err := tlsClient.Post(c.TLSURL(tok3), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hs := c.Hits(tok3); len(hs) != 1 || !hs[0].TLS || hs[0].Method != "POST" {
		t.Fatalf("tls hit: %+v", hs)
	}
	// A verifying client refuses the self-signed certificate.
	if _, err := http.Get(c.TLSURL(c.NewToken())); err == nil {
		t.Fatal("self-signed certificate accepted by a verifying client")
	}
}
