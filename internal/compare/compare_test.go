package compare

import "testing"

func TestSimilarity(t *testing.T) {
	a := []byte(`{"id":1,"owner":"alice","items":[{"n":1},{"n":2}]}`)
	if Similarity(a, a) != 1 {
		t.Fatal("identical")
	}
	b := []byte(`{"id":1,"owner":"alice","items":[{"n":1},{"n":3}]}`)
	if s := Similarity(a, b); s < 0.5 || s >= 1 {
		t.Fatalf("close: %v", s)
	}
	if s := Similarity(a, []byte(`{"error":"unauthorized"}`)); s != 0 {
		t.Fatalf("disjoint: %v", s)
	}
	if s := Similarity([]byte("hello big world"), []byte("hello small world")); s < 0.4 || s > 0.6 {
		t.Fatalf("text: %v", s)
	}
}

func TestErrorAndData(t *testing.T) {
	cases := map[string][2]bool{ // body: {isError, hasData}
		`{"error":"unauthorized"}`:                 {true, false},
		`{"status":401,"message":"Missing token"}`: {true, false},
		`{}`:                  {true, false},
		`[]`:                  {false, false},
		`{"id":1,"name":"x"}`: {false, true},
		`[{"id":1}]`:          {false, true},
		`Unauthorized`:        {true, false},
		`{"data":null}`:       {false, false},
		`<html><body>Account statement ...</body>`: {false, true},
	}
	for body, want := range cases {
		if IsErrorBody([]byte(body)) != want[0] || HasData([]byte(body)) != want[1] {
			t.Errorf("%s: error=%v data=%v", body, IsErrorBody([]byte(body)), HasData([]byte(body)))
		}
	}
}
