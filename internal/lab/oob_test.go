package lab_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/internal/cli"
	"github.com/rampart-scan/rampart/internal/report"
)

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestPublicCanary runs rampart oob on loopback and a demo scan that uses it through --oob-url.
func TestPublicCanary(t *testing.T) {
	const token = "test-oob-token-0123456789"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"oob", "--addr", freeAddr(t), "--tls-addr", freeAddr(t), "--token", token}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	base := strings.TrimSpace(strings.Fields(line)[2])
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), []string{"demo", "--only", "ssrf.url-parameter", "--format", "json", "--oob-url", base, "--oob-token", token}, &out, &errb)
	if code != cli.ExitOK {
		t.Fatalf("demo exit %d: %s", code, errb.String())
	}
	var r report.Report
	json.Unmarshal(out.Bytes(), &r)
	found := false
	for _, f := range r.Findings {
		for _, e := range f.Evidence {
			if f.Rule == "ssrf.url-parameter" && strings.Contains(e.Note, "canary received") {
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("no SSRF proven through the public canary: %s", out.String())
	}
	// A wrong token is refused.
	code = cli.Run(context.Background(), []string{"demo", "--only", "ssrf", "--oob-url", base, "--oob-token", "wrong-token-000000000"}, io.Discard, io.Discard)
	if code != cli.ExitTarget {
		t.Fatalf("wrong oob token: exit %d", code)
	}
	cancel()
	<-done
}
