package sqsbackend

import (
	"context"
	"errors"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/platform"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/workloads"
)

func TestLocalStackOptionsDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   LocalStackOptions
		err  string
	}{
		{"no network", LocalStackOptions{}, "Docker network is required"},
		{"bridge", LocalStackOptions{Network: "bridge"}, "no DNS aliases"},
	} {
		if _, err := tc.in.withDefaults(); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.err)
		}
	}
	o, err := LocalStackOptions{Network: "k3d-bench"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.Alias != "localstack" || o.Image != DefaultLocalStackImage || o.Logger == nil {
		t.Errorf("defaults: %+v", o)
	}
	// The pin is a version, not a moving tag.
	if !regexp.MustCompile(`^localstack/localstack:\d+\.\d+\.\d+$`).MatchString(DefaultLocalStackImage) {
		t.Errorf("DefaultLocalStackImage %q is not pinned to a version", DefaultLocalStackImage)
	}
}

// The request the options add to the module's: network alias, environment
// for alias-based queue URLs, labels, no Docker socket.
func TestLocalStackRequest(t *testing.T) {
	o, err := LocalStackOptions{Network: "kind", Alias: "sqs", RunID: "run-1", AuthToken: "tok"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	req := testcontainers.GenericContainerRequest{ContainerRequest: testcontainers.ContainerRequest{
		Env: map[string]string{},
		// What the module sets before our options.
		HostConfigModifier: func(hc *container.HostConfig) { hc.Binds = []string{"/var/run/docker.sock:/var/run/docker.sock"} },
	}}
	for _, c := range o.customizers() {
		if err := c.Customize(&req); err != nil {
			t.Fatal(err)
		}
	}
	wantEnv := map[string]string{
		"SERVICES": "sqs", "EAGER_SERVICE_LOADING": "1", "SQS_ENDPOINT_STRATEGY": "off",
		"LOCALSTACK_HOST": "sqs:4566", "LOCALSTACK_AUTH_TOKEN": "tok",
	}
	if !reflect.DeepEqual(req.Env, wantEnv) {
		t.Errorf("env = %v, want %v", req.Env, wantEnv)
	}
	if !reflect.DeepEqual(req.Networks, []string{"kind"}) || !reflect.DeepEqual(req.NetworkAliases, map[string][]string{"kind": {"sqs"}}) {
		t.Errorf("networks %v aliases %v", req.Networks, req.NetworkAliases)
	}
	if req.Labels[kube.LabelRunID] != "run-1" || req.Labels[kube.LabelManagedBy] != kube.ManagedBy {
		t.Errorf("labels = %v", req.Labels)
	}
	hc := &container.HostConfig{}
	req.HostConfigModifier(hc)
	if len(hc.Binds) != 0 {
		t.Errorf("binds = %v, want none (no Docker socket in the container)", hc.Binds)
	}
	if req.WaitingFor == nil {
		t.Error("no wait strategy")
	}
	if _, ok := req.Logger.(slogPrinter); !ok {
		t.Errorf("logger %T, want the slog adapter", req.Logger)
	}
	// No auth token: no variable.
	o.AuthToken = ""
	if _, ok := o.env()["LOCALSTACK_AUTH_TOKEN"]; ok {
		t.Error("LOCALSTACK_AUTH_TOKEN set without a token")
	}
}

func localStackBackend() *Backend {
	return &Backend{
		Kind: KindLocalStack, Region: LocalStackRegion,
		HostEndpoint: "http://localhost:32771", ClusterEndpoint: "http://localstack:4566",
		Credentials: &Credentials{AccessKeyID: "test", SecretAccessKey: "test"},
	}
}

func TestLocalStackQueueURL(t *testing.T) {
	b := localStackBackend()
	got, err := b.QueueURL("customers")
	if err != nil || got != "http://localstack:4566/000000000000/customers" {
		t.Errorf("QueueURL = %q, %v", got, err)
	}
	for _, bad := range []string{"", "a/b"} {
		if _, err := b.QueueURL(bad); err == nil {
			t.Errorf("QueueURL(%q): no error", bad)
		}
	}
	if QueueName(got) != "customers" {
		t.Errorf("QueueName(%q) = %q", got, QueueName(got))
	}
}

// The customer-transformer image has its queue URL built in (the SQS
// trigger does not resolve Spin variables), so the fixture, the built-in
// keda-sqs scenario's queue and a LocalStack backend must agree.
func TestFixtureQueueURLMatchesLocalStack(t *testing.T) {
	manifest, err := os.ReadFile("../../fixtures/customer-transformer/spin.toml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^queue_url\s*=\s*"([^"]*)"`).FindSubmatch(manifest)
	if m == nil {
		t.Fatal("spin.toml has no queue_url")
	}
	s, err := scenario.Resolve("keda-sqs")
	if err != nil {
		t.Fatal(err)
	}
	if s.Spec.Load.SQS == nil {
		t.Fatal("keda-sqs has no SQS load")
	}
	want, err := localStackBackend().QueueURL(s.Spec.Load.SQS.Queue)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m[1]); got != want {
		t.Errorf("spin.toml queue_url = %q, but keda-sqs on LocalStack uses %q", got, want)
	}
}

func TestAWS(t *testing.T) {
	const q = "https://sqs.eu-west-1.amazonaws.com/123456789012/customers"
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		name, url string
		env       func(string) string
		region    string
		creds     *Credentials
		err       string
	}{
		{name: "region from URL, default chain", url: q, env: env(), region: "eu-west-1"},
		{name: "AWS_REGION agrees", url: q, env: env("AWS_REGION", "eu-west-1", "AWS_ACCESS_KEY_ID", "AK", "AWS_SECRET_ACCESS_KEY", "SK"),
			region: "eu-west-1", creds: &Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"}},
		{name: "session token", url: q, env: env("AWS_DEFAULT_REGION", "eu-west-1", "AWS_ACCESS_KEY_ID", "AK", "AWS_SECRET_ACCESS_KEY", "SK", "AWS_SESSION_TOKEN", "ST"),
			region: "eu-west-1", creds: &Credentials{AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "ST"}},
		{name: "legacy host", url: "https://eu-west-1.queue.amazonaws.com/123456789012/customers", env: env(), region: "eu-west-1"},
		{name: "region only from env", url: "https://queue.amazonaws.com/123456789012/customers", env: env("AWS_REGION", "us-east-1"), region: "us-east-1"},
		{name: "region mismatch", url: q, env: env("AWS_REGION", "us-east-1"), err: `is in "eu-west-1"`},
		{name: "no region", url: "https://queue.amazonaws.com/123456789012/customers", env: env(), err: "no region"},
		{name: "key without secret", url: q, env: env("AWS_ACCESS_KEY_ID", "AK"), err: "set both"},
		{name: "token alone", url: q, env: env("AWS_SESSION_TOKEN", "ST"), err: "without"},
		{name: "not https", url: "http://sqs.eu-west-1.amazonaws.com/123456789012/customers", env: env(), err: "want https"},
		{name: "bad path", url: "https://sqs.eu-west-1.amazonaws.com/customers", env: env(), err: "/<account>/<queue>"},
	} {
		b, err := AWS(tc.url, tc.env)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if b.Kind != KindAWS || b.Region != tc.region || !reflect.DeepEqual(b.Credentials, tc.creds) || b.HostEndpoint != "" || b.ClusterEndpoint != "" {
			t.Errorf("%s: backend %+v creds %+v", tc.name, b, b.Credentials)
		}
		if err := b.Close(context.Background()); err != nil {
			t.Errorf("%s: Close: %v", tc.name, err)
		}
	}
}

func TestAWSQueueURL(t *testing.T) {
	const q = "https://sqs.eu-west-1.amazonaws.com/123456789012/customers"
	b, err := AWS(q, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"customers", ""} {
		if got, err := b.QueueURL(name); err != nil || got != q {
			t.Errorf("QueueURL(%q) = %q, %v", name, got, err)
		}
	}
	if _, err := b.QueueURL("orders"); err == nil || !strings.Contains(err.Error(), `serves queue "customers"`) {
		t.Errorf("QueueURL(orders): %v", err)
	}
}

// The backend's one wiring: what the app and KEDA need, the session token
// included when the credentials have one.
func TestWiring(t *testing.T) {
	w, err := localStackBackend().Wiring("customers", platform.ValkeyClusterAddr)
	if err != nil {
		t.Fatal(err)
	}
	want := workloads.SQSWiring{QueueURL: "http://localstack:4566/000000000000/customers", Endpoint: "http://localstack:4566",
		Region: "us-east-1", AccessKeyID: "test", SecretAccessKey: "test", RedisAddr: platform.ValkeyClusterAddr}
	if w != want {
		t.Errorf("wiring %#v, want %#v", w, want)
	}
	if _, err := localStackBackend().Wiring("a/b", platform.ValkeyClusterAddr); err == nil {
		t.Error("a queue name with a slash: want an error")
	}

	// AWS with the default chain: no credentials, no endpoint.
	const q = "https://sqs.eu-west-1.amazonaws.com/123456789012/customers"
	a, err := AWS(q, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if w, err = a.Wiring("customers", platform.ValkeyClusterAddr); err != nil || w.StaticCredentials() || w.Endpoint != "" || w.QueueURL != q || w.Region != "eu-west-1" {
		t.Errorf("default chain: %#v, %v", w, err)
	}
	// Temporary credentials: the session token comes along.
	a.Credentials = &Credentials{AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "ST"}
	if w, err = a.Wiring("", platform.ValkeyClusterAddr); err != nil || w.AccessKeyID != "AK" || w.SecretAccessKey != "SK" || w.SessionToken != "ST" {
		t.Errorf("session token: %#v, %v", w, err)
	}
}

// Without a Docker daemon LocalStack fails with ErrNoDocker, promptly and
// without a panic.
func TestLocalStackWithoutDocker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if DockerAvailable(ctx) == nil {
		t.Skip("a Docker daemon answers; see TestLocalStackIntegration")
	}
	b, err := LocalStack(ctx, LocalStackOptions{Network: "k3d-bench"})
	if !errors.Is(err, ErrNoDocker) || b != nil {
		t.Errorf("LocalStack = %v, %v; want ErrNoDocker", b, err)
	}
	var nilBackend *Backend
	if err := nilBackend.Close(ctx); err != nil {
		t.Errorf("nil Close: %v", err)
	}
}
