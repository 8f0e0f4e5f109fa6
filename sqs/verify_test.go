package sqs

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func fakeRedis(data map[string]string) mget {
	return func(_ context.Context, keys []string) ([]any, error) {
		out := make([]any, len(keys))
		for i, k := range keys {
			if v, ok := data[k]; ok {
				out[i] = v
			}
		}
		return out, nil
	}
}

func TestVerify(t *testing.T) {
	sent := SendResult{
		Valid: map[string]Customer{
			"a": {"Ada", "Lovelace", 36},
			"b": {"Tim", "Berners-Lee", 17},
			"c": {"Grace", "Hopper", 85},
			"d": {"Alan", "Turing", 41},
			"e": {"Ken", "Thompson", 20},
			"f": {"Hedy", "Lamarr", 30},
		},
		InvalidIDs: []string{"x", "y"},
	}
	data := map[string]string{
		"a": `{"firstName":"Ada","lastName":"Lovelace","fullName":"Ada Lovelace","adult":true}`,
		"b": `{"firstName":"Tim","lastName":"Berners-Lee","fullName":"Tim Berners-Lee","adult":true}`, // wrong adult
		"c": `{"firstName":"Grace","lastName":"Hopper","adult":true}`,                                 // no fullName
		"e": `not json`,
		"f": `{"firstName":"Hedy","lastName":"Lamarr","fullName":"Hedy Lamarr","adult":true,"x":1}`, // extra field
		"y": `{"firstName":"?"}`,                                                                    // a record for an invalid message
	}
	v, err := verify(context.Background(), sent, fakeRedis(data))
	if err != nil {
		t.Fatal(err)
	}
	if v.Processed != 1 || v.Missing != 1 || v.Wrong != 5 {
		t.Errorf("verification %+v; want 1 processed, 1 missing (d), 5 wrong (b c e f y)", v)
	}
	if got := strings.Join(v.NotStored, ","); got != "b,c,d,e,f" {
		t.Errorf("not stored %s; want the valid messages without a correct record b,c,d,e,f", got)
	}
	all := strings.Join(v.Problems, "\n")
	for _, want := range []string{"message b: record", `"adult":false`, "message d: no record", "invalid message y: has a record", "a field is missing", "unknown field"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
}

func TestVerifyAllGoodAndChunked(t *testing.T) {
	sent := SendResult{Valid: map[string]Customer{}}
	data := map[string]string{}
	for i, m := range generate(1234, 0, 9) {
		id := string(rune('A'+i%26)) + string(rune('a'+i/26%26)) + string(rune('0'+i/676))
		sent.Valid[id] = m.customer
		data[id] = recordJSON(Transform(m.customer))
	}
	calls := 0
	get := fakeRedis(data)
	v, err := verify(context.Background(), sent, func(ctx context.Context, keys []string) ([]any, error) {
		calls++
		if len(keys) > verifyChunk {
			t.Fatalf("MGET of %d keys", len(keys))
		}
		return get(ctx, keys)
	})
	if err != nil || v.Processed != 1234 || v.Missing != 0 || v.Wrong != 0 || len(v.Problems) != 0 {
		t.Fatalf("verification %+v, %v", v, err)
	}
	if calls != 3 {
		t.Errorf("%d MGETs for 1234 keys, want 3", calls)
	}
}

func TestVerifyProblemsBoundedAndErrorsReturned(t *testing.T) {
	sent := SendResult{Valid: map[string]Customer{}}
	for i := range 50 {
		sent.Valid[string(rune('a'+i%26))+string(rune('a'+i/26))] = Customer{"A", "B", 1}
	}
	v, err := verify(context.Background(), sent, fakeRedis(nil))
	if err != nil || v.Missing != 50 || len(v.Problems) != maxProblems {
		t.Errorf("verification %+v, %v", v, err)
	}
	boom := errors.New("connection refused")
	if _, err := verify(context.Background(), sent, func(context.Context, []string) ([]any, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
}
