package emulated

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated/dataplane"
	"github.com/scalebench/scalebench/clusters/emulated/dataplane/sqsapp"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/sqs"
)

// TestSQSOnEmulatedCluster runs the keda-sqs seed on an emulated cluster:
// goaws and Redis from SQSEnv, the sqs-transformer model for the pods, the
// real KEDA aws-sqs-queue scaler and HPA. It takes about five minutes.
func TestSQSOnEmulatedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a control plane, KEDA, goaws and Redis (~5 min)")
	}
	requireCachedBinaries(t)
	requireSQSComponents(t)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	p := &Provider{IngressAddr: "127.0.0.1:0"}
	c, err := p.CreateCluster(ctx, clusters.Options{
		Name: "sqs-it", RunID: "sqs-it-" + time.Now().Format("150405"), WorkDir: t.TempDir(),
		Logger: logger, Progress: testWriter{t},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	defer func() {
		if t.Failed() {
			// Kept after the test: process logs (goaws's, redis's) and cluster state.
			dir, err := os.MkdirTemp("", "scalebench-sqs-it-")
			if err == nil {
				err = c.CollectDiagnostics(context.Background(), dir)
			}
			t.Logf("diagnostics in %s (%v)", dir, err)
		}
		if err := c.Delete(context.Background()); err != nil {
			t.Errorf("delete: %v", err)
		}
	}()

	start := time.Now()
	env, err := c.SQSEnv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MEASURED SQS side ready in %s", time.Since(start).Round(time.Millisecond))
	client, err := sqs.NewClient(ctx, env, sqs.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(c.RESTConfig())
	ns := "sqs"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSA(t, ctx, cs, ns)

	t.Run("keda scales 0 to N to 0 and no message is lost", func(t *testing.T) {
		testKEDASQSScaling(t, ctx, c, cs, client, env, ns)
	})
	t.Run("redis down: messages stay in the queue", func(t *testing.T) {
		testSQSRedisOutage(t, ctx, c, cs, client, env, ns)
	})
}

const (
	sqsTestVisibility  = 10 * time.Second
	sqsTestMaxReceives = 2
)

// sqsWorkload creates the Secret and the Deployment of a transformer that
// consumes queueURL, as the sample's manifests do: env from the Secret.
func sqsWorkload(t *testing.T, ctx context.Context, cs kubernetes.Interface, env sqs.Env, ns, name, queueURL string, replicas int32) {
	t.Helper()
	secret := name + "-sqs"
	cfg := sqsapp.AppConfig{
		Endpoint: env.ClusterEndpoint, Region: env.Region, AccessKeyID: env.AccessKeyID, SecretAccessKey: env.SecretAccessKey,
		QueueURL: queueURL, RedisURL: "redis://" + env.ClusterRedisAddr,
	}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: ns},
		StringData: cfg.Env(),
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var podEnv []corev1.EnvVar
	for _, k := range []string{sqsapp.EnvEndpointURL, sqsapp.EnvRegion, sqsapp.EnvAccessKeyID, sqsapp.EnvSecretAccessKey, sqsapp.EnvQueueURL, sqsapp.EnvRedisConnectionString} {
		podEnv = append(podEnv, corev1.EnvVar{Name: k, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: k,
		}}})
	}
	rc := RuntimeClassName
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels: map[string]string{"app": name},
					Annotations: map[string]string{
						dataplane.AnnotationModel:          dataplane.ModelSQSTransformer,
						dataplane.AnnotationCostPerMessage: "50ms",
					},
				},
				Spec: corev1.PodSpec{
					RuntimeClassName: &rc,
					Containers: []corev1.Container{{
						Name: "customer-transformer", Image: "ghcr.io/scalebench/customer-transformer:emulated", Command: []string{"/"},
						Env: podEnv,
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
						},
					}},
				},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// sqsReplicaSample is one observation of the Deployment.
type sqsReplicaSample struct {
	at          time.Time
	spec, ready int32
}

// sqsObserver samples the Deployment and the queues, and records KEDA's
// activation events, with receive times.
type sqsObserver struct {
	mu       sync.Mutex
	replicas []sqsReplicaSample
	depths   []sqsDepthSample
	events   []sqsEventSample
}

type sqsDepthSample struct {
	at                          time.Time
	visible, inFlight, deadLett int64
}

type sqsEventSample struct {
	at     time.Time
	reason string
}

func (o *sqsObserver) run(ctx context.Context, t *testing.T, cs kubernetes.Interface, client *sqs.Client, ns, name, queueURL, dlqURL string) {
	go func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			if d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{}); err == nil && d.Status.ObservedGeneration >= d.Generation {
				o.mu.Lock()
				o.replicas = append(o.replicas, sqsReplicaSample{time.Now(), *d.Spec.Replicas, d.Status.ReadyReplicas})
				o.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	go func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			v, f, err := client.Depth(ctx, queueURL)
			dv, df, derr := client.Depth(ctx, dlqURL)
			if err == nil && derr == nil {
				o.mu.Lock()
				o.depths = append(o.depths, sqsDepthSample{time.Now(), v, f, dv + df})
				o.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	go func() {
		seen := map[string]bool{}
		for ctx.Err() == nil {
			evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
			if err == nil {
				for _, e := range evs.Items {
					if (e.Reason == "KEDAScaleTargetActivated" || e.Reason == "KEDAScaleTargetDeactivated") && !seen[string(e.UID)+fmt.Sprint(e.Count)] {
						seen[string(e.UID)+fmt.Sprint(e.Count)] = true
						o.mu.Lock()
						o.events = append(o.events, sqsEventSample{time.Now(), e.Reason})
						o.mu.Unlock()
					}
				}
			}
			time.Sleep(250 * time.Millisecond)
		}
	}()
}

func (o *sqsObserver) snapshot() ([]sqsReplicaSample, []sqsDepthSample, []sqsEventSample) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.replicas), slices.Clone(o.depths), slices.Clone(o.events)
}

// sqsFirstReplicas is when the Deployment first had spec replicas >= n (and
// ready >= n when ready is set).
func sqsFirstReplicas(rs []sqsReplicaSample, n int32, ready bool) (time.Time, bool) {
	for _, r := range rs {
		if (ready && r.ready >= n) || (!ready && r.spec >= n) {
			return r.at, true
		}
	}
	return time.Time{}, false
}

func sqsWaitFor(t *testing.T, ctx context.Context, timeout time.Duration, what string, check func() (bool, string)) time.Time {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := kube.Poll(wctx, 250*time.Millisecond, what, func(context.Context) (bool, string, error) {
		ok, state := check()
		return ok, state, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return time.Now()
}

func testKEDASQSScaling(t *testing.T, ctx context.Context, c *Cluster, cs kubernetes.Interface, client *sqs.Client, env sqs.Env, ns string) {
	const name = "customer-transformer"
	queueURL, err := client.CreateQueue(ctx, "customers", sqsTestVisibility)
	if err != nil {
		t.Fatal(err)
	}
	dlqURL, err := client.CreateQueue(ctx, "customers-dlq", sqsTestVisibility)
	if err != nil {
		t.Fatal(err)
	}
	// Invalid messages are left by the app; without a redrive policy they
	// would keep the queue, and so the workload, above zero for ever.
	if err := client.SetDeadLetterQueue(ctx, queueURL, dlqURL, sqsTestMaxReceives); err != nil {
		t.Fatal(err)
	}
	sqsWorkload(t, ctx, cs, env, ns, name, queueURL, 0)
	auth := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication",
		"metadata": map[string]any{"name": name + "-aws", "namespace": ns},
		"spec": map[string]any{"secretTargetRef": []any{
			map[string]any{"parameter": "awsAccessKeyID", "name": name + "-sqs", "key": sqsapp.EnvAccessKeyID},
			map[string]any{"parameter": "awsSecretAccessKey", "name": name + "-sqs", "key": sqsapp.EnvSecretAccessKey},
		}},
	}}
	so := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"scaleTargetRef":  map[string]any{"name": name},
			"minReplicaCount": int64(0),
			"maxReplicaCount": int64(10),
			"pollingInterval": int64(2),
			"cooldownPeriod":  int64(30),
			"triggers": []any{map[string]any{
				"type":              "aws-sqs-queue",
				"authenticationRef": map[string]any{"name": name + "-aws"},
				"metadata": map[string]any{
					"queueURL":        queueURL,
					"queueLength":     "10",
					"awsRegion":       env.Region,
					"awsEndpoint":     env.ClusterEndpoint,
					"scaleOnInFlight": "false",
				},
			}},
		},
	}}
	for _, o := range []struct {
		gvr schema.GroupVersionResource
		obj *unstructured.Unstructured
	}{{kube.TriggerAuthentications, auth}, {kube.ScaledObjects, so}} {
		if _, err := c.dynamic.Resource(o.gvr).Namespace(ns).Create(ctx, o.obj, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// KEDA takes over the Deployment: wait until its HPA exists and nothing runs.
	sqsWaitFor(t, ctx, time.Minute, "KEDA's HPA for "+name, func() (bool, string) {
		_, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "keda-hpa-"+name, metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})

	obsCtx, stopObs := context.WithCancel(ctx)
	defer stopObs()
	obs := &sqsObserver{}
	obs.run(obsCtx, t, cs, client, ns, name, queueURL, dlqURL)

	t0 := time.Now()
	sent, err := client.Send(ctx, sqs.SendOptions{QueueURL: queueURL, Messages: 1000, BatchSize: 10, InvalidShare: 0.05, Seed: 42}, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Sent != 1000 || sent.Invalid != 50 || len(sent.Valid) != 950 {
		t.Fatalf("sent %d (%d invalid, %d valid)", sent.Sent, sent.Invalid, len(sent.Valid))
	}
	t.Logf("MEASURED sent 1000 messages (50 invalid) in batches of 10 in %s", sent.Finished.Sub(sent.Started).Round(time.Millisecond))

	sqsWaitFor(t, ctx, 30*time.Second, "KEDA to activate the workload (0 → 1)", func() (bool, string) {
		rs, _, _ := obs.snapshot()
		_, ok := sqsFirstReplicas(rs, 1, false)
		return ok, fmt.Sprintf("%d replica samples", len(rs))
	})

	var lastVer sqs.Verification
	drained := sqsWaitFor(t, ctx, 5*time.Minute, "every valid message processed", func() (bool, string) {
		v, err := sqs.Verify(ctx, env.RedisAddr, sent)
		if err != nil {
			return false, err.Error()
		}
		lastVer = v
		return v.Processed == 950, fmt.Sprintf("%+v", v)
	})
	// The queue holds only the invalid ones now (in it or already moved to
	// the dead-letter queue).
	mv, mf, err := client.Depth(ctx, queueURL)
	if err != nil {
		t.Fatal(err)
	}
	dv, df, err := client.Depth(ctx, dlqURL)
	if err != nil {
		t.Fatal(err)
	}
	if left := mv + mf + dv + df; left != 50 {
		t.Errorf("after processing: %d messages left (queue %d visible, %d in flight; dead-letter queue %d), want the 50 invalid ones", left, mv, mf, dv+df)
	}
	if lastVer.Missing != 0 || lastVer.Wrong != 0 {
		t.Errorf("verification %+v", lastVer)
	}

	emptied := sqsWaitFor(t, ctx, 2*time.Minute, "the invalid messages in the dead-letter queue, the queue empty", func() (bool, string) {
		v, f, err1 := client.Depth(ctx, queueURL)
		dv, df, err2 := client.Depth(ctx, dlqURL)
		if err1 != nil || err2 != nil {
			return false, fmt.Sprint(err1, err2)
		}
		return v+f == 0 && dv+df == 50, fmt.Sprintf("queue %d+%d, dead-letter %d+%d", v, f, dv, df)
	})
	zero := sqsWaitFor(t, ctx, 3*time.Minute, "scale back to 0 after the cooldown", func() (bool, string) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return d.Status.ObservedGeneration >= d.Generation && *d.Spec.Replicas == 0 && d.Status.Replicas == 0,
			fmt.Sprintf("spec %d, replicas %d, ready %d", *d.Spec.Replicas, d.Status.Replicas, d.Status.ReadyReplicas)
	})
	time.Sleep(time.Second)
	stopObs()

	rs, depths, events := obs.snapshot()
	firstSpec, _ := sqsFirstReplicas(rs, 1, false)
	firstReady, okReady := sqsFirstReplicas(rs, 1, true)
	var peak int32
	var peakAt time.Time
	for _, r := range rs {
		if r.ready > peak {
			peak, peakAt = r.ready, r.at
		}
	}
	var steps []string
	last := int32(-1)
	for _, r := range rs {
		if r.spec != last {
			steps = append(steps, fmt.Sprintf("%d@%.1fs", r.spec, r.at.Sub(t0).Seconds()))
			last = r.spec
		}
	}
	var evs []string
	for _, e := range events {
		evs = append(evs, fmt.Sprintf("%s@%.1fs", e.reason, e.at.Sub(t0).Seconds()))
	}
	var maxInFlight int64
	for _, d := range depths {
		maxInFlight = max(maxInFlight, d.inFlight)
	}
	if !okReady {
		t.Error("no replica ever became ready")
	}
	if peak < 2 {
		t.Errorf("peak %d ready replicas, want more than 1", peak)
	}
	if !slices.ContainsFunc(events, func(e sqsEventSample) bool { return e.reason == "KEDAScaleTargetActivated" }) {
		t.Errorf("no KEDAScaleTargetActivated event (events %v)", evs)
	}
	if d := zero.Sub(emptied); d < 25*time.Second {
		t.Errorf("back to 0 only %s after the queue emptied; the cooldown is 30 s", d)
	}

	// Nothing lost: every valid record correct, no record for an invalid
	// message, every invalid message in the dead-letter queue.
	ver, err := sqs.Verify(ctx, env.RedisAddr, sent)
	if err != nil {
		t.Fatal(err)
	}
	if ver.Processed != 950 || ver.Missing != 0 || ver.Wrong != 0 {
		t.Errorf("final verification %+v", ver)
	}
	want := slices.Clone(sent.InvalidIDs)
	slices.Sort(want)
	var ids []string
	for attempt := 1; ; attempt++ {
		// Peek hides what it sees for 5 s; a second look after that sees
		// messages another receive had hidden during the first.
		got, err := client.Peek(ctx, dlqURL, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range got {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		if slices.Equal(ids, want) || attempt == 3 {
			break
		}
		t.Logf("dead-letter queue: %d of %d invalid messages seen after look %d; looking again", len(ids), len(want), attempt)
		time.Sleep(6 * time.Second)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("dead-letter queue holds %d messages, want exactly the %d invalid ones", len(ids), len(want))
		var missing, extra []string
		for _, id := range want {
			if !slices.Contains(ids, id) {
				missing = append(missing, id)
			}
		}
		for _, id := range ids {
			if !slices.Contains(want, id) {
				extra = append(extra, id)
			}
		}
		v, f, _ := client.Depth(ctx, queueURL)
		dv, df, _ := client.Depth(ctx, dlqURL)
		t.Logf("missing %v; extra %v; queue %d+%d, dead-letter %d+%d", missing, extra, v, f, dv, df)
	}

	t.Logf("MEASURED keda-sqs on the emulated cluster (t=0: first SendMessageBatch):")
	t.Logf("MEASURED   activation 0→1 (spec.replicas=1): %.1f s; first pod ready: %.1f s", firstSpec.Sub(t0).Seconds(), firstReady.Sub(t0).Seconds())
	t.Logf("MEASURED   peak %d ready replicas at %.1f s; spec.replicas steps: %s", peak, peakAt.Sub(t0).Seconds(), strings.Join(steps, " "))
	t.Logf("MEASURED   all 950 valid messages stored (drained): %.1f s; max in flight %d", drained.Sub(t0).Seconds(), maxInFlight)
	t.Logf("MEASURED   50 invalid messages in the dead-letter queue, queue empty: %.1f s", emptied.Sub(t0).Seconds())
	t.Logf("MEASURED   back to 0 replicas: %.1f s (%.1f s after the queue emptied; cooldown 30 s)", zero.Sub(t0).Seconds(), zero.Sub(emptied).Seconds())
	t.Logf("MEASURED   KEDA events: %s", strings.Join(evs, " "))
}

func testSQSRedisOutage(t *testing.T, ctx context.Context, c *Cluster, cs kubernetes.Interface, client *sqs.Client, env sqs.Env, ns string) {
	const (
		name     = "outage-transformer"
		messages = 400
	)
	visibility := 5 * time.Second
	queueURL, err := client.CreateQueue(ctx, "outage", visibility) // no dead-letter queue
	if err != nil {
		t.Fatal(err)
	}
	sqsWorkload(t, ctx, cs, env, ns, name, queueURL, 2)
	waitReadyReplicas(t, ctx, cs, ns, name, 2, time.Minute)
	rdb := redis.NewClient(&redis.Options{Addr: env.RedisAddr, MaxRetries: -1})
	defer rdb.Close()

	sent, err := client.Send(ctx, sqs.SendOptions{QueueURL: queueURL, Messages: messages, BatchSize: 10, Seed: 7}, nil)
	if err != nil || sent.Sent != messages {
		t.Fatalf("send: %d sent, %v", sent.Sent, err)
	}
	ids := make([]string, 0, len(sent.Valid))
	for id := range sent.Valid {
		ids = append(ids, id)
	}
	// Two pods at 500m and 50ms a message store about 20 a second.
	sqsWaitFor(t, ctx, time.Minute, "some of these records stored", func() (bool, string) {
		vals, err := rdb.MGet(ctx, ids...).Result()
		n := 0
		for _, v := range vals {
			if v != nil {
				n++
			}
		}
		return n >= 60, fmt.Sprint(n, " ", err)
	})
	// Freeze writes, note which records exist, then stop Redis: a SET that
	// was answered before the pause is in the snapshot; every later one fails.
	if err := rdb.Do(ctx, "CLIENT", "PAUSE", "30000", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	vals, err := rdb.MGet(ctx, ids...).Result()
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for i, v := range vals {
		if v != nil {
			stored[ids[i]] = true
		}
	}
	stopAt := time.Now()
	if err := c.StopComponent(ctx, ComponentRedis); err != nil {
		t.Fatal(err)
	}
	t.Logf("redis stopped after %d of %d records were stored (stop took %s)", len(stored), messages, time.Since(stopAt).Round(time.Millisecond))
	if len(stored) < 60 || len(stored) >= messages {
		t.Fatalf("%d of %d stored when redis stopped: not mid-run", len(stored), messages)
	}

	// Messages whose record was stored are deleted within moments; after
	// that the queue must hold exactly the others, for several visibility
	// timeouts during which the pods keep receiving them and fail to store.
	time.Sleep(2 * time.Second)
	want := int64(messages - len(stored))
	var sawInFlight bool
	end := time.Now().Add(3 * visibility)
	for time.Now().Before(end) {
		v, f, err := client.Depth(ctx, queueURL)
		if err != nil {
			t.Fatal(err)
		}
		if v+f != want {
			t.Fatalf("with redis down the queue holds %d (%d visible, %d in flight), want %d: messages were deleted without their record", v+f, v, f, want)
		}
		sawInFlight = sawInFlight || f > 0
		time.Sleep(250 * time.Millisecond)
	}
	if !sawInFlight {
		t.Error("no message in flight during the outage: were the pods consuming at all?")
	}
	t.Logf("MEASURED redis down for %s: the queue held all %d unstored messages (received and left again by the pods)", time.Since(stopAt).Round(time.Second), want)

	// Redis comes back empty (no persistence); the left messages are
	// processed after their visibility timeout.
	if err := c.RestartComponent(ctx, ComponentRedis); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	sqsWaitFor(t, ctx, 2*time.Minute, "the queue drained after redis came back", func() (bool, string) {
		v, f, err := client.Depth(ctx, queueURL)
		return err == nil && v+f == 0, fmt.Sprintf("%d visible, %d in flight, %v", v, f, err)
	})
	rest := sqs.SendResult{Valid: map[string]sqs.Customer{}}
	for id, cust := range sent.Valid {
		if !stored[id] {
			rest.Valid[id] = cust
		}
	}
	ver, err := sqs.Verify(ctx, env.RedisAddr, rest)
	if err != nil {
		t.Fatal(err)
	}
	if ver.Processed != want || ver.Missing != 0 || ver.Wrong != 0 {
		t.Errorf("after the outage: %+v, want all %d left messages stored", ver, want)
	}
	t.Logf("MEASURED after redis restarted: the %d left messages stored within %.1f s", want, time.Since(restarted).Seconds())
	if err := cs.AppsV1().Deployments(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Error(err)
	}
}
