package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/scalebench/scalebench/clusters/emulated/dataplane/sqsapp"
)

// fakeApp is a queue of messages and a record of what was handled.
type fakeApp struct {
	mu       sync.Mutex
	queue    []sqsapp.ReceivedMessage
	receives int
	handled  []string
	outcome  sqsapp.Outcome
	closed   bool
	// afterReceive runs after each non-empty Receive (outside the lock).
	afterReceive func()
}

func newFakeApp(n int) *fakeApp {
	a := &fakeApp{}
	for i := range n {
		a.queue = append(a.queue, sqsapp.ReceivedMessage{ID: fmt.Sprintf("m%03d", i), ReceiptHandle: fmt.Sprintf("rh%03d", i)})
	}
	return a
}

func (a *fakeApp) Receive(ctx context.Context, n int, wait time.Duration) ([]sqsapp.ReceivedMessage, error) {
	a.mu.Lock()
	a.receives++
	k := min(n, len(a.queue))
	out := append([]sqsapp.ReceivedMessage(nil), a.queue[:k]...)
	a.queue = a.queue[k:]
	after := a.afterReceive
	a.mu.Unlock()
	if k == 0 {
		select { // an empty long poll
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	} else if after != nil {
		after()
	}
	return out, nil
}

func (a *fakeApp) Handle(_ context.Context, m sqsapp.ReceivedMessage) (sqsapp.Outcome, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.handled = append(a.handled, m.ID)
	if a.outcome != sqsapp.Processed {
		return a.outcome, errors.New("fake failure")
	}
	return sqsapp.Processed, nil
}

func (a *fakeApp) Close() error {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	return nil
}

func (a *fakeApp) snapshot() (receives, handled int, closed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.receives, len(a.handled), a.closed
}

func transformerSpec(t *testing.T, cost, limit string) ModelSpec {
	p := pod("ns", "transformer-1", "10.0.0.9", ModelSQSTransformer, limit, AnnotationCostPerMessage, cost)
	return specFor(p, RealClock{}, nil, testLogger(t))
}

func startTransformer(t *testing.T, spec ModelSpec, app transformerApp) (*SQSTransformer, context.CancelFunc) {
	t.Helper()
	m, err := newSQSTransformer(spec, func(context.Context) (transformerApp, error) { return app, nil })
	if err != nil {
		t.Fatal(err)
	}
	ctx, kill := context.WithCancel(context.Background())
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		kill()
		<-m.done
	})
	return m, kill
}

func TestSQSTransformerProcessesAndSpendsCPU(t *testing.T) {
	app := newFakeApp(25)
	m, _ := startTransformer(t, transformerSpec(t, "2ms", ""), app)
	eventually(t, "25 messages handled", func() bool { return m.Stats().Processed == 25 })
	if s := m.Stats(); s.Received != 25 || s.LeftInvalid+s.StoreFailed+s.DeleteFailed != 0 {
		t.Errorf("stats %+v", s)
	}
	if used := m.CPUUsed(); used < 49*time.Millisecond || used > 51*time.Millisecond {
		t.Errorf("CPU used %v, want 25 × 2ms", used)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, closed := app.snapshot(); !closed {
		t.Error("app not closed after Stop")
	}
}

// At a 100m limit, ten 10ms messages received together take 1s: CPU time
// is spent within the pod's limit, not in parallel for free.
func TestSQSTransformerCPUWithinLimit(t *testing.T) {
	app := newFakeApp(10)
	m, _ := startTransformer(t, transformerSpec(t, "10ms", "100m"), app)
	start := time.Now()
	eventually(t, "10 messages handled", func() bool { return m.Stats().Processed == 10 })
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("10 × 10ms at 100m took %v, want about 1s", d)
	}
}

func TestSQSTransformerStopFinishesMessagesInHandAndPollsNoMore(t *testing.T) {
	app := newFakeApp(30)
	m, err := newSQSTransformer(transformerSpec(t, "100ms", ""), func(context.Context) (transformerApp, error) { return app, nil })
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	var once sync.Once
	app.afterReceive = func() {
		// Stop while the first batch of 10 is in hand.
		once.Do(func() {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				stopped <- m.Stop(ctx)
			}()
		})
	}
	ctx, kill := context.WithCancel(context.Background())
	defer func() { kill(); <-m.done }()
	m.Start(ctx)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	receives, handled, closed := app.snapshot()
	if receives != 1 || handled != 10 || !closed {
		t.Errorf("after Stop: %d receives, %d handled, closed %v; want 1, 10, true", receives, handled, closed)
	}
}

func TestSQSTransformerKilledLeavesMessagesUndeleted(t *testing.T) {
	app := newFakeApp(10)
	m, kill := startTransformer(t, transformerSpec(t, "1h", ""), app)
	eventually(t, "a batch received", func() bool { return m.Stats().Received == 10 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := m.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop with work in hand past the grace period = %v", err)
	}
	kill()
	<-m.done
	if _, handled, _ := app.snapshot(); handled != 0 {
		t.Errorf("%d messages handled by a killed instance", handled)
	}
}

func TestSQSTransformerCountsFailures(t *testing.T) {
	app := newFakeApp(12)
	app.outcome = sqsapp.StoreFailed
	m, _ := startTransformer(t, transformerSpec(t, "1ms", ""), app)
	eventually(t, "12 store failures", func() bool { return m.Stats().StoreFailed == 12 })
	if s := m.Stats(); s.Processed != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestSQSTransformerRetriesConnect(t *testing.T) {
	app := newFakeApp(3)
	calls := 0
	m, err := newSQSTransformer(transformerSpec(t, "1ms", ""), func(context.Context) (transformerApp, error) {
		calls++
		if calls < 3 {
			return nil, errors.New("secret not found")
		}
		return app, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, kill := context.WithCancel(context.Background())
	defer func() { kill(); <-m.done }()
	m.Start(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for m.Stats().Processed != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("not processed after %d connects", calls)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if calls != 3 {
		t.Errorf("%d connects", calls)
	}
}

func TestSQSTransformerHasNoHTTPTrigger(t *testing.T) {
	m, err := newSQSTransformer(transformerSpec(t, "1ms", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("status %d", rec.Code)
	}
	bad := transformerSpec(t, "soon", "")
	if _, err := newSQSTransformer(bad, nil); err == nil || !strings.Contains(err.Error(), AnnotationCostPerMessage) {
		t.Errorf("bad cost annotation: %v", err)
	}
}

// The constructor reads the pod's env through the API, Secrets included.
func TestSQSTransformerConfigFromPodEnv(t *testing.T) {
	p := pod("ns", "transformer-1", "10.0.0.9", ModelSQSTransformer, "500m")
	p.Spec.Containers[0].Env = []corev1.EnvVar{
		{Name: sqsapp.EnvEndpointURL, Value: "http://127.0.0.1:4100"},
		{Name: sqsapp.EnvRegion, Value: "us-east-1"},
		{Name: sqsapp.EnvAccessKeyID, ValueFrom: secretRef("aws", "AWS_ACCESS_KEY_ID", false)},
		{Name: sqsapp.EnvSecretAccessKey, ValueFrom: secretRef("aws", "AWS_SECRET_ACCESS_KEY", false)},
		{Name: sqsapp.EnvQueueURL, Value: "http://127.0.0.1:4100/100010001000/q"},
		{Name: sqsapp.EnvRedisConnectionString, Value: "redis://127.0.0.1:6379"},
	}
	src := testEnvSource()
	client := src.client.(*fake.Clientset)
	if err := client.Tracker().Add(p); err != nil {
		t.Fatal(err)
	}
	mk := NewSQSTransformerFunc(client)
	model, err := mk(specFor(p, RealClock{}, nil, testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	m := model.(*SQSTransformer)
	app, err := m.connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	app.Close()

	// Without the Secret's key the app cannot start, and says why.
	p2 := p.DeepCopy()
	p2.Name = "transformer-2"
	p2.Spec.Containers[0].Env[2].ValueFrom = secretRef("aws", "MISSING", false)
	if err := client.Tracker().Add(p2); err != nil {
		t.Fatal(err)
	}
	model, _ = mk(specFor(p2, RealClock{}, nil, testLogger(t)))
	if _, err := model.(*SQSTransformer).connect(context.Background()); err == nil || !strings.Contains(err.Error(), `Secret "aws" has no key "MISSING"`) {
		t.Errorf("err = %v", err)
	}
}
