package scenario

import (
	"errors"
	"strings"
	"testing"
)

// Malformed scenarios: each must fail with an error naming where (a field
// path, or the document) and never panic or print a nil path.
var malformedSeeds = []string{
	"",
	"\x00\x01\x02binary junk\xff",
	"- a list\n- not a mapping\n",
	"metadata: {name: a}\nmetadata: {name: b}\n",
	"metadata:\n  name: a\n  name: b\nspec: {}\n",
	"metadata: {name: x}\nspec:\n  autoscaler: {type: hpa, minReplicas: 99999999999999999999}\n",
	"metadata: {name: x}\nspec:\n  autoscaler: {type: hpa, minReplicas: -1, maxReplicas: 0}\n",
	"metadata: {name: x}\nspec:\n  autoscaler: {type: hpa, minReplicas: 5, maxReplicas: 2}\n",
	"metadata: {name: x}\nspec:\n  autoscaler: {type: nope}\n",
	"metadata: {name: 7}\nspec: {autoscaler: [1, 2]}\n",
	"metadata: {name: x\nspec: [\n",
	"a: &a [*a, *a]\n",
	"a: &a [1,2]\nb: &b [*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b]\nd: [*c,*c,*c,*c]\n",
	"metadata: {name: x}\nspec: {workload: {image: \"\"}, load: {type: http, http: {rate: \"fast\"}}}\n",
}

func FuzzParse(f *testing.F) {
	for _, s := range malformedSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml")
		if err == nil {
			if s == nil {
				t.Fatal("no scenario and no error")
			}
			return
		}
		msg := err.Error()
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Errs) == 0 {
			t.Fatalf("not a ValidationError with field errors: %s", msg)
		}
		for _, fe := range ve.Errs {
			// The YAML library's own text may say <nil>; the path never.
			if fe.Field == "" || fe.Field == "<nil>" || strings.HasPrefix(fe.Error(), "<nil>") {
				t.Fatalf("error without a path: %s", msg)
			}
		}
		if !strings.Contains(msg, "fuzz.yaml") {
			t.Fatalf("error does not name the file: %s", msg)
		}
	})
}
