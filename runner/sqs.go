package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/scalebench/scalebench/analysis"
	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/load"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/sqs"
	"github.com/scalebench/scalebench/timeline"
	"github.com/scalebench/scalebench/workloads"
)

// VisibilityTimeout of the scenario's queue: a message a pod took but did not
// delete (it died, or the store was down) is visible again after it.
const VisibilityTimeout = 10 * time.Second

// MaxReceiveCount is how often a message may be received and left before it
// moves to the dead-letter queue. The app leaves invalid messages; without a
// dead-letter queue they would keep KEDA active and the workload off zero.
const MaxReceiveCount = 2

type sqsRun struct {
	client   *sqs.Client
	queueURL string
	dlqURL   string
	sent     *sqs.SendResult
	stopSamp context.CancelFunc
	sampled  chan struct{}
	// closeIdle closes the SQS client's idle connections.
	closeIdle func()
}

// closeSQS ends the queue sampling and the SQS client's connections, once the run is over.
func (r *run) closeSQS() {
	if r.sqs == nil {
		return
	}
	r.stopSampling()
	if r.sqs.closeIdle != nil {
		r.sqs.closeIdle()
	}
}

// prepareSQS creates the queue and the wiring the workload and scaler need.
func (r *run) prepareSQS(ctx context.Context) error {
	sp, ok := r.opts.Cluster.(clusters.SQSProvider)
	if !ok {
		return fmt.Errorf("keda-sqs: this cluster kind provides no SQS backend yet")
	}
	env, err := sp.SQSEnv(ctx)
	if err != nil {
		// The SQS endpoint and the store are platform components.
		return errorf(results.ErrorPlatform, "keda-sqs: %w", err)
	}
	// The run's own connection pool, closed when the run ends (closeSQS): the SDK's default client would
	// keep its idle connections to the queue open after the run.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	c, err := sqs.NewClient(ctx, env, sqs.WithLogger(r.opts.Logger), sqs.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		return fmt.Errorf("keda-sqs: %w", err)
	}
	q := r.s.Spec.Load.SQS
	url, err := c.CreateQueue(ctx, q.Queue, VisibilityTimeout)
	if err != nil {
		return fmt.Errorf("keda-sqs: %w", err)
	}
	dlq, err := c.CreateQueue(ctx, q.Queue+"-dlq", VisibilityTimeout)
	if err != nil {
		return fmt.Errorf("keda-sqs: dead-letter queue: %w", err)
	}
	if err := c.SetDeadLetterQueue(ctx, url, dlq, MaxReceiveCount); err != nil {
		return fmt.Errorf("keda-sqs: %w", err)
	}
	r.sqs = &sqsRun{client: c, queueURL: url, dlqURL: dlq, closeIdle: tr.CloseIdleConnections}
	r.sqsWiring = &workloads.SQSWiring{
		QueueURL: url, Endpoint: env.ClusterEndpoint, Region: env.Region,
		AccessKeyID: env.AccessKeyID, SecretAccessKey: env.SecretAccessKey, SessionToken: env.SessionToken, RedisAddr: env.ClusterRedisAddr,
	}
	r.progressf("queue %s ready (endpoint %s, store %s)", url, env.Endpoint, env.RedisAddr)
	return nil
}

// sampleQueue records the queue depth every second until stopped.
func (r *run) sampleQueue(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	r.sqs.stopSamp = cancel
	r.sqs.sampled = make(chan struct{})
	go func() {
		defer close(r.sqs.sampled)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			if v, f, err := r.sqs.client.Depth(ctx, r.sqs.queueURL); err == nil {
				r.rec.Record(timeline.Event{Kind: timeline.KindQueue, Object: "Queue/" + r.s.Spec.Load.SQS.Queue, Queue: &timeline.QueueSample{Visible: v, InFlight: f}})
			}
			if v, f, err := r.sqs.client.Depth(ctx, r.sqs.dlqURL); err == nil && v+f > 0 {
				r.rec.Record(timeline.Event{Kind: timeline.KindQueue, Object: "Queue/" + r.s.Spec.Load.SQS.Queue + "-dlq", Queue: &timeline.QueueSample{Visible: v, InFlight: f}})
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (r *run) stopSampling() {
	if r.sqs != nil && r.sqs.stopSamp != nil {
		r.sqs.stopSamp()
		<-r.sqs.sampled
	}
}

// sqsLoad sends the messages, then waits until the queue holds only the
// invalid ones and every valid message has its record (the queue drained).
// Not draining within the budget is not a harness error: the checks say it.
func (r *run) sqsLoad(ctx context.Context) error {
	q := r.s.Spec.Load.SQS
	r.sampleQueue(context.WithoutCancel(ctx))
	so := sqs.SendOptions{QueueURL: r.sqs.queueURL, Messages: q.Messages, BatchSize: q.BatchSize, Rate: q.Rate, InvalidShare: q.InvalidShare, Seed: 1}
	var perStep [][]time.Duration
	if len(q.Profile) > 0 {
		perStep = load.Options{Mode: load.OpenLoop, Steps: rateSteps(q.Profile)}.Arrivals()
		so.Messages, so.Due = 0, []time.Duration{}
		for _, d := range perStep {
			so.Due = append(so.Due, d...)
		}
	}
	r.rec.Mark(timeline.MarkerLoadStart, fmt.Sprintf("%s to %s", q.Describe(), r.sqs.queueURL))
	r.progressf("sending %s (%.0f%% invalid)", q.Describe(), q.InvalidShare*100)
	res, err := r.sqs.client.Send(ctx, so, r.opts.Progress)
	r.sqs.sent = &res
	if perStep != nil && !res.Started.IsZero() {
		r.profile = sqsProfile(q.Profile, perStep, res.SentAt, r.rec.Since(res.Started))
	}
	r.rec.Mark(timeline.MarkerLoadStop, fmt.Sprintf("%d messages sent (%d invalid)", res.Sent, res.Invalid))
	if err != nil {
		return fmt.Errorf("keda-sqs: send: %w", err)
	}
	r.progressf("sent %d messages (%d invalid) in %.1f s; waiting for the queue to drain", res.Sent, res.Invalid, res.Finished.Sub(res.Started).Seconds())
	budget := r.opts.DrainTimeout
	if budget == 0 {
		budget = 5 * time.Minute
	}
	dctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	valid := int64(len(res.Valid))
	err = kube.Poll(dctx, time.Second, "the queue to drain", func(ctx context.Context) (bool, string, error) {
		// Drained: every valid message has its record and the queue holds
		// nothing but the invalid ones (which move to the dead-letter queue).
		v, f, err := r.sqs.client.Depth(ctx, r.sqs.queueURL)
		if err != nil {
			return false, "", nil // transient: keep the last depth seen
		}
		state := fmt.Sprintf("visible %d, in flight %d", v, f)
		if v+f > res.Invalid {
			return false, state, nil
		}
		ver, verr := sqs.Verify(ctx, r.sqs.client.Env().RedisAddr, res)
		if verr != nil || ver.Processed+ver.Wrong < valid {
			return false, state, nil
		}
		r.rec.Mark(timeline.MarkerQueueDrained, fmt.Sprintf("%d valid messages processed, %d invalid ones still in the queue", ver.Processed, v+f))
		r.progressf("queue drained: %d valid messages stored, %d invalid ones still in the queue", ver.Processed, v+f)
		return true, state, nil
	})
	var we *kube.WaitError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case errors.As(err, &we):
		r.progressf("queue not drained within %s (%s)", budget, we.Last)
		return nil
	}
	return err
}

// finishSQS counts what happened to every message sent.
func (r *run) finishSQS(ctx context.Context) error {
	r.stopSampling()
	if r.sqs == nil || r.sqs.sent == nil {
		return nil
	}
	res := r.sqs.sent
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	v, f, derr := r.sqs.client.Depth(ctx, r.sqs.queueURL)
	if derr != nil {
		return fmt.Errorf("keda-sqs: queue depth at the end: %w", derr)
	}
	dv, df, derr := r.sqs.client.Depth(ctx, r.sqs.dlqURL)
	if derr != nil {
		return fmt.Errorf("keda-sqs: dead-letter queue depth at the end: %w", derr)
	}
	r.progressf("at the end: %d messages in the queue, %d in the dead-letter queue", v+f, dv+df)
	mainQueue := v + f
	r.messages = &analysis.MessageTotals{Sent: res.Sent, Invalid: res.Invalid, LeftInQueue: v + f + dv + df, InMainQueue: &mainQueue}
	// Which messages still wait in the main queue: take the visible ones for
	// a while (no pod can store one meanwhile), then read the store. Exact
	// only when no pod holds a message after the peek.
	var peeked []string
	held := int64(0)
	if mainQueue > 0 {
		ids, perr := r.sqs.client.Peek(ctx, r.sqs.queueURL, peekHide)
		_, f2, derr := r.sqs.client.Depth(ctx, r.sqs.queueURL)
		switch {
		case perr != nil:
			r.progressf("could not list the messages left in the queue: %v", perr)
			held = -1
		case derr != nil:
			r.progressf("queue depth after listing it: %v", derr)
			held = -1
		default:
			peeked, held = ids, max(f2-int64(len(ids)), 0)
		}
	}
	ver, err := sqs.Verify(ctx, r.sqs.client.Env().RedisAddr, *res)
	if err != nil {
		// What was processed cannot be known: say so rather than count it lost.
		r.messages.StoreError = err.Error()
		r.progressf("store unreachable: %v", err)
		return nil
	}
	r.messages.Processed = ver.Processed
	for _, p := range ver.Problems {
		r.progressf("store: %s", p)
	}
	switch {
	case held == 0:
		n := validWaiting(peeked, ver.NotStored)
		r.messages.ValidWaiting = &n
	case held > 0:
		r.progressf("%d messages were held by pods at the end: which valid ones still wait is not known", held)
	}
	return nil
}

// peekHide is how long listing the queue at the end hides its messages: long
// enough to read the store before a pod can take one again.
const peekHide = 30 * time.Second

// validWaiting counts the valid messages without a correct record among the
// ids still in the main queue.
func validWaiting(inQueue, notStored []string) int64 {
	pending := make(map[string]bool, len(notStored))
	for _, id := range notStored {
		pending[id] = true
	}
	var n int64
	for _, id := range inQueue {
		if pending[id] {
			n++
			delete(pending, id) // a message listed twice counts once
		}
	}
	return n
}

// sqsProfile is the report's view of a message arrival profile: each step
// placed in the run (sending started at sendAt), the messages its schedule
// gave, and those accepted during it (a message accepted after the last
// step's end counts in the last step: nothing is dropped).
func sqsProfile(p []scenario.RateStep, perStep [][]time.Duration, sentAt []time.Duration, sendAt time.Duration) []results.ProfileStep {
	placed := scenario.PlaceRates(p)
	out := make([]results.ProfileStep, len(placed))
	for i, st := range placed {
		out[i] = results.ProfileStep{Unit: "messages",
			StartSeconds: (sendAt + st.Start).Seconds(), EndSeconds: (sendAt + st.End).Seconds(),
			FromPerSecond: st.From, ToPerSecond: st.To, Ramp: st.Ramp}
		if i < len(perStep) {
			out[i].Scheduled = int64(len(perStep[i]))
		}
	}
	for _, at := range sentAt {
		i := len(placed) - 1
		for j, st := range placed {
			if at < st.End {
				i = j
				break
			}
		}
		if i >= 0 {
			out[i].Sent++
		}
	}
	return out
}
