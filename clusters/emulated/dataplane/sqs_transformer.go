package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/scalebench/scalebench/clusters/emulated/dataplane/sqsapp"
)

// AnnotationCostPerMessage is the CPU time the sqs-transformer spends on one
// message (a Go duration, default DefaultSQSMessageCPU).
const AnnotationCostPerMessage = "scalebench.dev/cost-per-message"

// DefaultSQSMessageCPU is the CPU time of one sqs-transformer message: a
// Spin component instantiated per message that parses, validates and
// transforms a small JSON document and makes two outbound calls (Redis SET,
// SQS DeleteMessage). At the samples' 500m limit an instance handles ten
// messages per second.
const DefaultSQSMessageCPU = 50 * time.Millisecond

// How the sqs-transformer polls, after spin-trigger-sqs: up to max_messages
// (10) per ReceiveMessage, a short long-poll, the batch handled concurrently
// before the next poll.
const (
	sqsMaxMessages  = 10
	sqsPollWait     = time.Second
	sqsRetryBackoff = time.Second
)

// transformerApp is the app's I/O (*sqsapp.App).
type transformerApp interface {
	Receive(ctx context.Context, n int, wait time.Duration) ([]sqsapp.ReceivedMessage, error)
	Handle(ctx context.Context, m sqsapp.ReceivedMessage) (sqsapp.Outcome, error)
	Close() error
}

var _ transformerApp = (*sqsapp.App)(nil)

// SQSTransformer emulates the customer-transformer sample triggered by SQS
// (spin-trigger-sqs): while its pod is ready it polls the queue and, for each
// message, spends AnnotationCostPerMessage of CPU within the pod's limit,
// then validates it — an invalid one is left in the queue and returns after
// the visibility timeout — transforms it, SETs the record in Redis under the
// message id and deletes the message only if the SET succeeded (package sqsapp,
// App.Handle).
//
// It is configured like the sample's Deployment: from the first container's
// environment (sqsapp.Env* names), resolved as a kubelet would, Secrets and
// ConfigMaps read through the API. Until that succeeds it retries every
// second, logging why.
//
// When its pod stops being ready or is deleted it stops polling; the
// messages in hand are finished within the grace period, or, if the instance
// is killed first, left undeleted to return after the visibility timeout.
type SQSTransformer struct {
	spec ModelSpec
	cpu  *CPU
	cost time.Duration
	log  *slog.Logger
	// connect resolves the pod's environment and builds the app.
	connect func(ctx context.Context) (transformerApp, error)

	stopping chan struct{}
	stopOnce sync.Once
	done     chan struct{} // closed when the poller has returned

	received, processed, leftInvalid, storeFailed, deleteFailed atomic.Int64
}

var _ Model = (*SQSTransformer)(nil)

// NewSQSTransformerFunc returns the sqs-transformer model's constructor;
// client reads the pods and the Secrets and ConfigMaps their env refers to.
func NewSQSTransformerFunc(client kubernetes.Interface) NewModelFunc {
	return func(spec ModelSpec) (Model, error) {
		m, err := newSQSTransformer(spec, nil)
		if err != nil {
			return nil, err
		}
		m.connect = func(ctx context.Context) (transformerApp, error) {
			pod, err := client.CoreV1().Pods(spec.Namespace).Get(ctx, spec.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("read pod: %w", err)
			}
			if len(pod.Spec.Containers) == 0 {
				return nil, errors.New("pod has no container")
			}
			env, err := containerEnv(ctx, pod, &pod.Spec.Containers[0], apiEnvSource{client: client})
			if err != nil {
				return nil, err
			}
			cfg, err := sqsapp.AppConfigFromEnv(env)
			if err != nil {
				return nil, err
			}
			return sqsapp.NewApp(cfg, m.log)
		}
		return m, nil
	}
}

// newSQSTransformer builds the model with connect (tests inject a fake app).
func newSQSTransformer(spec ModelSpec, connect func(context.Context) (transformerApp, error)) (*SQSTransformer, error) {
	cost, err := spec.Duration(AnnotationCostPerMessage, DefaultSQSMessageCPU)
	if err != nil {
		return nil, err
	}
	log := spec.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &SQSTransformer{
		spec:     spec,
		cpu:      spec.NewCPU(0),
		cost:     cost,
		log:      log.With("model", ModelSQSTransformer),
		connect:  connect,
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
	}, nil
}

// Start starts polling; ctx ends when the instance is killed.
func (m *SQSTransformer) Start(ctx context.Context) error {
	go m.run(ctx)
	return nil
}

// ServeHTTP answers 404: the app has only an SQS trigger.
func (m *SQSTransformer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "the sqs-transformer has no HTTP trigger", http.StatusNotFound)
}

// CPUUsed is the CPU time spent on messages so far.
func (m *SQSTransformer) CPUUsed() time.Duration { return m.cpu.Used() }

// Stop stops polling and returns when the messages in hand are done or ctx
// ends (the grace period).
func (m *SQSTransformer) Stop(ctx context.Context) error {
	m.stopOnce.Do(func() { close(m.stopping) })
	select {
	case <-m.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SQSTransformerStats count what an instance did with the messages it received.
type SQSTransformerStats struct {
	Received, Processed, LeftInvalid, StoreFailed, DeleteFailed int64
}

// Stats are the instance's counters so far.
func (m *SQSTransformer) Stats() SQSTransformerStats {
	return SQSTransformerStats{
		Received: m.received.Load(), Processed: m.processed.Load(), LeftInvalid: m.leftInvalid.Load(),
		StoreFailed: m.storeFailed.Load(), DeleteFailed: m.deleteFailed.Load(),
	}
}

func (m *SQSTransformer) stopped() bool {
	select {
	case <-m.stopping:
		return true
	default:
		return false
	}
}

// run connects, then polls until Stop or the kill. A poll in progress when
// Stop comes is finished and its messages handled, so none is left hidden
// for the visibility timeout without need.
func (m *SQSTransformer) run(killCtx context.Context) {
	defer close(m.done)
	var app transformerApp
	var lastErr string
	for {
		if m.stopped() || killCtx.Err() != nil {
			return
		}
		a, err := m.connect(killCtx)
		if err == nil {
			app = a
			break
		}
		if err.Error() != lastErr {
			lastErr = err.Error()
			m.log.Warn("cannot start the app; retrying every second", "err", err)
		}
		if m.pause(killCtx, sqsRetryBackoff) != nil {
			return
		}
	}
	defer func() {
		if err := app.Close(); err != nil {
			m.log.Warn("closing the app", "err", err)
		}
	}()
	m.log.Debug("polling the queue")
	lastErr = ""
	for !m.stopped() && killCtx.Err() == nil {
		msgs, err := app.Receive(killCtx, sqsMaxMessages, sqsPollWait)
		if err != nil {
			if killCtx.Err() != nil {
				return
			}
			if err.Error() != lastErr {
				lastErr = err.Error()
				m.log.Warn("receive failed; retrying", "err", err)
			}
			if m.pause(killCtx, sqsRetryBackoff) != nil {
				return
			}
			continue
		}
		lastErr = ""
		m.received.Add(int64(len(msgs)))
		var wg sync.WaitGroup
		for _, msg := range msgs {
			wg.Go(func() { m.handle(killCtx, app, msg) })
		}
		wg.Wait()
	}
}

// handle spends the message's CPU time, then lets the app handle it. A kill
// in between leaves the message undeleted.
func (m *SQSTransformer) handle(ctx context.Context, app transformerApp, msg sqsapp.ReceivedMessage) {
	if err := m.cpu.Do(ctx, m.cost); err != nil {
		return
	}
	outcome, err := app.Handle(ctx, msg)
	switch outcome {
	case sqsapp.Processed:
		m.processed.Add(1)
	case sqsapp.LeftInvalid:
		m.leftInvalid.Add(1)
		m.log.Debug("left an invalid message in the queue", "id", msg.ID, "receiveCount", msg.ReceiveCount, "err", err)
	case sqsapp.StoreFailed:
		if n := m.storeFailed.Add(1); n == 1 || n%100 == 0 {
			m.log.Warn("record not stored; message left in the queue", "id", msg.ID, "failures", n, "err", err)
		}
	case sqsapp.DeleteFailed:
		if n := m.deleteFailed.Add(1); n == 1 || n%100 == 0 {
			m.log.Warn("record stored but message not deleted; it will be redelivered", "id", msg.ID, "failures", n, "err", err)
		}
	}
}

// pause waits d on the model's clock, or until Stop or the kill.
func (m *SQSTransformer) pause(killCtx context.Context, d time.Duration) error {
	ctx, cancel := context.WithCancel(killCtx)
	defer cancel()
	go func() {
		select {
		case <-m.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	return sleep(ctx, m.spec.Clock, d)
}
