package sqs

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The cases shared with the Spin app (fixtures/customer-transformer): the
// emulated model must accept, reject and transform exactly as the app does.
func TestSharedCustomerCases(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "fixtures", "customer-transformer", "testdata", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Name   string          `json:"name"`
			Body   string          `json:"body"`
			Expect json.RawMessage `json:"expect"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, tc := range file.Cases {
		c, err := Validate([]byte(tc.Body))
		if string(tc.Expect) == `"invalid"` {
			if err == nil {
				t.Errorf("%s: %q accepted as %+v, want invalid", tc.Name, tc.Body, c)
			}
			continue
		}
		var want Record
		dec := json.NewDecoder(bytes.NewReader(tc.Expect))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%s: expect %s: %v", tc.Name, tc.Expect, err)
		}
		if err != nil {
			t.Errorf("%s: %q rejected: %v", tc.Name, tc.Body, err)
			continue
		}
		if got := Transform(c); got != want {
			t.Errorf("%s: %q → %+v, want %+v", tc.Name, tc.Body, got, want)
		}
	}
}
