// Package sqs is the KEDA SQS suite: the customer-transformer scaled 0 → N → 0
// by KEDA's aws-sqs-queue scaler while 1000 messages arrive in batches of 10,
// every valid message transformed into the store and none lost; and the store
// failing mid-run, which must leave messages in the queue, not lose them.
package sqs

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"

	"github.com/scalebench/scalebench/analysis"
	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/suites/internal/doctable"
	"github.com/scalebench/scalebench/suites/internal/suite"
)

func TestMain(m *testing.M) { os.Exit(suite.Main(m, "sqs", suite.WithSQS())) }

func TestSQSScalesFromZeroAndLosesNothing(t *testing.T) {
	s := suite.RequireCluster(t)
	sc := suite.Scenario(t, "keda-sqs")
	sc.Spec.Load.SQS.InvalidShare = 0.05
	s.Env.Test(t, s.Feature(sc, runner.Options{}, func(t *testing.T, res results.Scenario) {
		m := res.Metrics
		if m.MessagesSent == nil || *m.MessagesSent != int64(sc.Spec.Load.SQS.Messages) {
			t.Errorf("messagesSent %v, want %d", m.MessagesSent, sc.Spec.Load.SQS.Messages)
		}
		if m.MessagesSent != nil && m.MessagesProcessed != nil && m.MessagesInvalid != nil && *m.MessagesSent != *m.MessagesProcessed+*m.MessagesInvalid {
			t.Errorf("sent %d != processed %d + invalid %d", *m.MessagesSent, *m.MessagesProcessed, *m.MessagesInvalid)
		}
		if m.MessagesLost == nil || *m.MessagesLost != 0 {
			t.Errorf("messagesLost %v, want 0", m.MessagesLost)
		}
		if m.PeakReplicas == nil || *m.PeakReplicas < 2 || *m.PeakReplicas > sc.Spec.Autoscaler.MaxReplicas {
			t.Errorf("peak replicas %v, want 2..%d", m.PeakReplicas, sc.Spec.Autoscaler.MaxReplicas)
		}
		if m.ScaleDownSeconds == nil {
			t.Error("scaleDownSeconds absent: the workload did not return to zero")
		}
		if len(res.Steps) == 0 || res.Steps[0].From != 0 || res.Steps[len(res.Steps)-1].To != 0 {
			t.Errorf("want steps from 0 and back to 0, got %v", res.Steps)
		}
		// The sample's table: 0→N(≈8)→0, back at zero one cooldown after the queue is empty.
		cooldown := doctable.SQSCooldown
		if c := sc.Spec.Autoscaler.CooldownPeriod; c != nil {
			cooldown = time.Duration(*c) * time.Second
		}
		t.Logf("document 0→≈%d→0, %s cooldown; run %s then 0, back at 0 %.1fs after the queue drained",
			doctable.SQS.Replicas[1], cooldown, doctable.Format(doctable.Sequence(res.Steps)), deref(m.ScaleDownSeconds))
		if v := doctable.CompareSQS(res.Steps, m.ScaleDownSeconds, cooldown, sc.Spec.Autoscaler.MaxReplicas); len(v) > 0 {
			t.Errorf("not the document's table: %s", strings.Join(v, "; "))
		}
	}))
}

func TestStoreDownLeavesMessagesInTheQueue(t *testing.T) {
	s := suite.RequireCluster(t)
	st, ok := s.Cluster.(clusters.ComponentStopper)
	if !ok {
		t.Skip("this cluster kind cannot stop its store")
	}
	sc := suite.Scenario(t, "keda-sqs")
	sc.Metadata.Name = "keda-sqs-store-down"
	sc.Spec.Load.SQS.Messages = 300
	// 2 batches per second: 15 s of sending, and the store goes down after
	// 10 s, so messages keep arriving while it is down.
	sc.Spec.Load.SQS.Rate = 2
	sc.Spec.Expectations.ScaleDown = nil
	f := features.New(sc.Metadata.Name).WithLabel("scenario", sc.Metadata.Name).
		Assess("messages stay in the queue and the report says why", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			defer suite.Recover(t)
			base := s.Baseline(t)
			// The stopper always sends once: when it stopped the store, or
			// why it did not.
			stopped := make(chan error, 1)
			var stoppedAt time.Time // written before the send on stopped
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go func() {
				select {
				case <-time.After(10 * time.Second): // the workload is up and consuming by then
				case <-sctx.Done():
					stopped <- fmt.Errorf("the run ended before the store was stopped: %w", sctx.Err())
					return
				}
				stoppedAt = time.Now()
				stopped <- st.StopComponent(sctx, "redis")
			}()
			res := s.Run(ctx, t, sc, runner.Options{DrainTimeout: 45 * time.Second})
			end := time.Now()
			cancel()
			serr := <-stopped
			defer func() {
				if err := st.RestartComponent(context.WithoutCancel(ctx), "redis"); err != nil {
					t.Errorf("restart redis: %v", err)
				}
				s.CheckNothingLeft(ctx, t, base, "redis", "goaws") // goaws: started by the first keda-sqs run
			}()
			if serr != nil {
				t.Fatalf("stop redis: %v (run: passed=%v, %s error %q)", serr, res.Passed, res.ErrorKind, res.Error)
			}
			m := res.Metrics
			if res.Passed {
				t.Fatalf("want a failed scenario, got passed")
			}
			if m.MessagesInQueue == nil || m.MessagesInvalid == nil || *m.MessagesInQueue <= *m.MessagesInvalid {
				t.Errorf("messagesInQueue %s, want more than the %s invalid ones: unprocessed messages must stay in the queue",
					results.FormatCount(m.MessagesInQueue), results.FormatCount(m.MessagesInvalid))
			}
			if m.MessagesLost != nil && *m.MessagesLost != 0 {
				t.Errorf("messagesLost %d, want 0 (or unknown while the store is down)", *m.MessagesLost)
			}
			var stored *results.Check
			for i, c := range res.Checks {
				if c.Name == analysis.CheckMessagesStored {
					stored = &res.Checks[i]
				}
			}
			if stored == nil || stored.Passed || !strings.Contains(stored.Detail, "observed") {
				t.Errorf("want the failed check %q saying what was observed, got %+v", analysis.CheckMessagesStored, stored)
			} else {
				// A check's verdict is formed at the end of the run.
				suite.LogVerdict(t, "Redis (the store) stopped", suite.VerdictAfter(res, stoppedAt, end), fmt.Sprintf("check %q failed: %s", stored.Name, stored.Detail))
			}
			return ctx
		}).Feature()
	s.Env.Test(t, f)
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}
