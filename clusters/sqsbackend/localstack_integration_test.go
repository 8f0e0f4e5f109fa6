package sqsbackend

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// curlImage probes LocalStack from a second container on the same network,
// the way a pod on a k3d/kind node reaches it.
const curlImage = "curlimages/curl:8.11.1"

// TestLocalStackIntegration starts LocalStack on a fresh Docker network and
// checks what the scenario relies on: the harness reaches SQS on the mapped
// port with a queue URL naming the alias, CreateQueue returns exactly
// Backend.QueueURL, and another container on the network reaches
// http://localstack:4566. Needs Docker; skipped without it and with -short.
func TestLocalStackIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Docker; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := DockerAvailable(ctx); err != nil {
		t.Skipf("skipping: LocalStack needs a Docker daemon and none answers (%v)", err)
	}
	nw, err := network.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nw.Remove(context.Background()) })

	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := LocalStack(ctx, LocalStackOptions{Network: nw.Name, RunID: "it-" + strconv.FormatInt(time.Now().Unix(), 10), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if b.ClusterEndpoint != "http://localstack:4566" || b.Region != "us-east-1" || b.Credentials.AccessKeyID != "test" {
		t.Errorf("backend %+v", b)
	}

	c := awssqs.New(awssqs.Options{
		Region:       b.Region,
		BaseEndpoint: aws.String(b.HostEndpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: b.Credentials.AccessKeyID, SecretAccessKey: b.Credentials.SecretAccessKey}, nil
		}),
	})
	created, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("customers")})
	if err != nil {
		t.Fatal(err)
	}
	want, err := b.QueueURL("customers")
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(created.QueueUrl); got != want {
		t.Errorf("CreateQueue URL = %q, want %q", got, want)
	}
	// The host sends with the alias URL: LocalStack finds the queue by path.
	if _, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(want), MessageBody: aws.String(`{"firstName":"Ada","lastName":"Lovelace","age":36}`)}); err != nil {
		t.Fatal(err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{
		QueueUrl: aws.String(want), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)]; n != "1" {
		t.Errorf("ApproximateNumberOfMessages = %q, want 1", n)
	}

	// A neighbour on the network resolves the alias.
	probe, err := testcontainers.Run(ctx, curlImage,
		testcontainers.WithCmd("-fsS", "--retry", "5", "--retry-all-errors", b.ClusterEndpoint+"/_localstack/health"),
		network.WithNetworkName(nil, nw.Name),
		testcontainers.WithWaitStrategy(wait.ForExit().WithExitTimeout(time.Minute)),
		testcontainers.WithLogger(slogPrinter{logger}),
	)
	t.Cleanup(func() { _ = testcontainers.TerminateContainer(probe) })
	if err != nil {
		t.Fatal(err)
	}
	state, err := probe.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if state.ExitCode != 0 {
		out := ""
		if rc, err := probe.Logs(ctx); err == nil {
			b, _ := io.ReadAll(rc)
			out = string(b)
		}
		t.Errorf("curl %s from the network: exit %d: %s", b.ClusterEndpoint, state.ExitCode, out)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}
