package sqs

import (
	"reflect"
	"testing"
)

func TestGenerateIsDeterministicAndExact(t *testing.T) {
	for _, tc := range []struct {
		n     int
		share float64
		want  int
	}{
		{1000, 0.05, 50}, {1000, 0, 0}, {1000, 1, 1000}, {7, 0.5, 4}, {3, 0.1, 0}, {0, 0.5, 0}, {10, 0.05, 1},
	} {
		a := generate(tc.n, tc.share, 42)
		if len(a) != tc.n {
			t.Fatalf("generate(%d) made %d messages", tc.n, len(a))
		}
		invalid := 0
		for _, m := range a {
			if !m.valid {
				invalid++
			}
		}
		if invalid != tc.want || invalidCount(tc.n, tc.share) != tc.want {
			t.Errorf("generate(%d, %g): %d invalid, want %d", tc.n, tc.share, invalid, tc.want)
		}
		if b := generate(tc.n, tc.share, 42); !reflect.DeepEqual(a, b) {
			t.Errorf("generate(%d, %g) differs between runs with the same seed", tc.n, tc.share)
		}
	}
	if reflect.DeepEqual(generate(100, 0.05, 1), generate(100, 0.05, 2)) {
		t.Error("different seeds made the same messages")
	}
}

// Validate (the app's logic) must agree with the generator on every message,
// and the invalid ones must cover every kind and be spread out.
func TestGeneratedMixMatchesValidate(t *testing.T) {
	msgs := generate(1000, 0.05, 7)
	kinds := map[string]int{}
	last := -1
	for i, m := range msgs {
		c, err := Validate([]byte(m.body))
		if m.valid {
			if err != nil || c != m.customer {
				t.Fatalf("message %d %s: valid by construction, Validate = %+v, %v", i, m.body, c, err)
			}
			continue
		}
		if err == nil {
			t.Fatalf("message %d (%s) %s: invalid by construction, Validate accepted it", i, m.kind, m.body)
		}
		kinds[m.kind]++
		if last >= 0 && i-last != 20 {
			t.Errorf("invalid messages at %d and %d: want every 20th", last, i)
		}
		last = i
	}
	if len(kinds) != len(invalidKinds) {
		t.Errorf("invalid kinds used: %v; want all %d", kinds, len(invalidKinds))
	}
	minors, adults := 0, 0
	for _, m := range msgs {
		if m.valid && Transform(m.customer).Adult {
			adults++
		} else if m.valid {
			minors++
		}
	}
	if minors == 0 || adults == 0 {
		t.Errorf("valid customers: %d minors, %d adults; want both", minors, adults)
	}
}

func TestBatches(t *testing.T) {
	for _, tc := range []struct {
		n, size int
		want    [][2]int
	}{
		{25, 10, [][2]int{{0, 10}, {10, 20}, {20, 25}}},
		{20, 10, [][2]int{{0, 10}, {10, 20}}},
		{3, 1, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
		{0, 10, nil},
		{5, 0, nil},
	} {
		if got := batches(tc.n, tc.size); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("batches(%d, %d) = %v, want %v", tc.n, tc.size, got, tc.want)
		}
	}
	total := 0
	for _, b := range batches(1000, 10) {
		if b[1]-b[0] != 10 {
			t.Fatalf("batch %v is not 10 long", b)
		}
		total += b[1] - b[0]
	}
	if total != 1000 {
		t.Errorf("batches cover %d of 1000", total)
	}
}
