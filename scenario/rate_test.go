package scenario

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const rateScenario = `apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: r}
spec:
  workload: {name: app, image: x}
  autoscaler: {type: hpa, minReplicas: 1, maxReplicas: 4}
  load:
    http:
      profile:
        - {rate: 5/s, for: 1m}
        - {rampTo: 50/s, for: 2m}
        - {rate: 0/s, for: 30s}
        - {rate: 600/m, for: 1m}
`

func TestRateProfile(t *testing.T) {
	s, err := Parse([]byte(rateScenario), "t")
	if err != nil {
		t.Fatal(err)
	}
	h := s.Spec.Load.HTTP
	if h.Mode != LoadOpenLoop || h.Connections != 0 || h.Duration.Duration != 0 {
		t.Errorf("mode %q connections %d duration %s; want open-loop without connections or duration", h.Mode, h.Connections, h.Duration)
	}
	if d := h.TotalDuration(); d != 4*time.Minute+30*time.Second {
		t.Errorf("total %s, want 4m30s", d)
	}
	got := PlaceRates(h.Profile)
	want := []RateStepAt{
		{0, time.Minute, 5, 5, false},
		{time.Minute, 3 * time.Minute, 5, 50, true},
		{3 * time.Minute, 3*time.Minute + 30*time.Second, 0, 0, false},
		{3*time.Minute + 30*time.Second, 4*time.Minute + 30*time.Second, 10, 10, false},
	}
	if len(got) != len(want) {
		t.Fatalf("placed %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// (5+50)/2 × 120 s.
	if n := got[1].Total(); n != 3300 {
		t.Errorf("ramp total %v, want 3300", n)
	}
	if d := DescribeProfile(h.Profile); d != "5/s for 1m0s, ramp to 50/s over 2m0s, pause 30s, 10/s for 1m0s" {
		t.Errorf("described as %q", d)
	}
	if !strings.Contains(h.Summary(), "open-loop profile 5/s for 1m0s") {
		t.Errorf("summary %q", h.Summary())
	}
}

func TestRateProfileErrors(t *testing.T) {
	const first = "{rate: 5/s, for: 1m}"
	for _, tc := range []struct{ name, from, to, want string }{
		{"bad rate", first, "{rate: fast, for: 1m}", `want a rate like "5/s" or "300/m"`},
		{"bad unit", first, "{rate: 5/h, for: 1m}", `want a rate like "5/s" or "300/m"`},
		{"negative", first, "{rate: -1/s, for: 1m}", `spec.load.http.profile[0].rate: Invalid value: "-1/s": requests per second, 0/s..10000/s`},
		{"too high ramp", "{rampTo: 50/s, for: 2m}", "{rampTo: 20000/s, for: 2m}", `spec.load.http.profile[1].rampTo: Invalid value: "20000/s": requests per second, 0/s..10000/s`},
		{"both", first, "{rate: 5/s, rampTo: 9/s, for: 1m}", `spec.load.http.profile[0].rampTo: Forbidden: set one of rate`},
		{"neither", first, "{for: 1m}", `spec.load.http.profile[0]: Required value: one of rate (a constant rate, 0/s for a pause) or rampTo`},
		{"fraction of a second", first, "{rate: 5/s, for: 1500ms}", `spec.load.http.profile[0].for: Invalid value: "1.5s": a whole number of seconds, at least 1s`},
		{"closed loop", "    http:\n", "    http:\n      mode: closed-loop\n", `spec.load.http.mode: Invalid value: "closed-loop": a profile is open-loop`},
		{"with rate", "    http:\n", "    http:\n      rate: 5\n", `spec.load.http.rate: Forbidden: set either profile or rate`},
		{"with duration", "    http:\n", "    http:\n      duration: 1m\n", `spec.load.http.duration: Forbidden: set either profile or duration`},
		{"with steps", "    http:\n", "    http:\n      steps: [{duration: 1m, rate: 3}]\n", `spec.load.http.steps: Forbidden: set either profile or steps`},
		{"silent", "profile:\n", "profile:\n        - {rate: 0/s, for: 1m}\n      x:\n", `spec.load.http.profile: Invalid value: "pause 1m0s": sends nothing`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(rateScenario, tc.from, tc.to, 1)
			if tc.name == "silent" {
				src = rateScenario[:strings.Index(rateScenario, "profile:")] + "profile:\n        - {rate: 0/s, for: 1m}\n"
			}
			_, err := Parse([]byte(src), "t")
			var ve *ValidationError
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v\nwant it to contain %s", err, tc.want)
			}
			if strings.HasPrefix(tc.want, "spec.") && !errors.As(err, &ve) {
				t.Errorf("err %T is not a ValidationError", err)
			}
		})
	}
}

const sqsRateScenario = `apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: q}
spec:
  workload: {kind: Deployment, name: app, image: x}
  autoscaler: {type: keda-sqs, minReplicas: 0, maxReplicas: 4}
  load:
    sqs:
      profile:
        - {rate: 20/s, for: 30s}
        - {rate: 0/s, for: 10s}
        - {rampTo: 40/s, for: 20s}
`

func TestSQSArrivalProfile(t *testing.T) {
	s, err := Parse([]byte(sqsRateScenario), "t")
	if err != nil {
		t.Fatal(err)
	}
	q := s.Spec.Load.SQS
	if q.Messages != 0 || q.BatchSize != DefaultBatchSize {
		t.Errorf("messages %d batch %d", q.Messages, q.BatchSize)
	}
	if d := q.Describe(); d != "message arrivals 20/s for 30s, pause 10s, ramp to 40/s over 20s, in batches of up to 10" {
		t.Errorf("described as %q", d)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"with messages", "    sqs:\n", "    sqs:\n      messages: 100\n", "spec.load.sqs.messages: Forbidden: set either profile or messages"},
		{"with rate", "    sqs:\n", "    sqs:\n      rate: 2\n", "spec.load.sqs.rate: Forbidden: set either profile or rate"},
		{"bad ramp", "{rampTo: 40/s, for: 20s}", "{rampTo: -4/s, for: 20s}", `spec.load.sqs.profile[2].rampTo: Invalid value: "-4/s": messages per second, 0/s..10000/s`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(strings.Replace(sqsRateScenario, tc.from, tc.to, 1)), "t")
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v\nwant it to contain %s", err, tc.want)
			}
		})
	}
	noProfile := sqsRateScenario[:strings.Index(sqsRateScenario, "    sqs:")] + "    sqs: {}\n"
	if _, err := Parse([]byte(noProfile), "t"); err == nil || !strings.Contains(err.Error(), "spec.load.sqs.messages: Invalid value: 0: must be >= 1 (or an arrival profile") {
		t.Errorf("neither messages nor profile: err %v", err)
	}
}
