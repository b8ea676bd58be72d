package lab

import (
	"context"
	"testing"

	"github.com/rampart-scan/rampart/internal/spec"
)

func TestSpecLoads(t *testing.T) {
	for _, m := range []Mode{Vulnerable, Hardened} {
		s, err := spec.Parse(context.Background(), []byte(New(m).Spec()), "lab.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Operations) < 10 {
			t.Fatalf("%d operations", len(s.Operations))
		}
	}
}
