package runner

import "testing"

func TestValidWaiting(t *testing.T) {
	for _, tc := range []struct {
		name              string
		inQueue, notStore []string
		want              int64
	}{
		{"empty queue", nil, []string{"a", "b"}, 0},
		{"invalid and stored-not-deleted ones are not waiting", []string{"x", "s"}, []string{"a"}, 0},
		{"valid ones not stored are", []string{"a", "x", "b"}, []string{"a", "b", "c"}, 2},
		{"listed twice counts once", []string{"a", "a"}, []string{"a"}, 1},
	} {
		if got := validWaiting(tc.inQueue, tc.notStore); got != tc.want {
			t.Errorf("%s: validWaiting(%v, %v) = %d, want %d", tc.name, tc.inQueue, tc.notStore, got, tc.want)
		}
	}
}
