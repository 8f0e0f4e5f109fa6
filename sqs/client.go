// Package sqs is the SQS side of the keda-sqs scenario, after the
// customer-transformer sample (spin-trigger-sqs): a Spin app triggered by SQS
// messages validates each customer {firstName, lastName, age}, transforms it
// into {firstName, lastName, fullName, adult} and writes it to Redis/Valkey
// with SET <messageId> <json>; invalid messages are left in the queue, valid
// ones deleted only after the write succeeded.
//
// The harness side: Client creates queues, sends the load (Send: a
// deterministic mix of valid and invalid messages in SendMessageBatch calls,
// failed entries retried, never dropped), samples the queue depth, and Verify
// checks Redis for exactly one correct record per valid message and none for
// invalid ones.
//
// The sample's logic, Validate and Transform, is shared: Verify checks the
// records against it, and the emulated cluster's app (package
// clusters/emulated/dataplane/sqsapp, the sample's I/O: receive, store,
// delete) runs it for every ready pod.
//
// Everything speaks the AWS JSON protocol through the AWS SDK for Go v2 with
// static credentials and a custom endpoint, so it works against real SQS and
// against goaws.
package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Env says where the SQS endpoint and Redis are, for the harness and for the
// cluster's components.
type Env struct {
	// Endpoint is the SQS endpoint the harness uses ("http://127.0.0.1:4100");
	// empty means AWS's regional endpoint.
	Endpoint        string
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken goes with temporary credentials ("" otherwise).
	SessionToken string
	// ClusterEndpoint is the SQS endpoint KEDA's scaler (awsEndpoint) and the
	// app pods use; the same as Endpoint on the emulated cluster.
	ClusterEndpoint string
	// RedisAddr is host:port of Redis for the harness (Verify);
	// ClusterRedisAddr is what pods use (REDIS_CONNECTION_STRING).
	RedisAddr, ClusterRedisAddr string
	// Emulator names the SQS emulator behind the endpoints ("" for AWS SQS),
	// so the client works around its quirks (see EmulatorGoaws).
	Emulator string
}

// EmulatorGoaws is goaws (github.com/Admiral-Piett/goaws, v0.5.4). Its
// quirks, worked around by the Client:
//   - ApproximateNumberOfMessages counts in-flight messages too: Depth
//     subtracts ApproximateNumberOfMessagesNotVisible. KEDA's scaler reads
//     the attribute as it is, so with scaleOnInFlight "false" it sees
//     visible + in-flight (what SQS reports with scaleOnInFlight "true");
//   - its JSON SendMessageBatch answer names the result lists as the Query
//     protocol does (SendMessageBatchResultEntry, BatchResultErrorEntry
//     instead of Successful, Failed), which the SDK would read as "nothing
//     accepted": the client renames them before the SDK parses the answer;
//   - SetQueueAttributes resets the attributes it is not given (the
//     visibility timeout to 0): SetDeadLetterQueue repeats the queue's
//     visibility timeout.
const EmulatorGoaws = "goaws"

// api is the part of the SQS API the package uses (*awssqs.Client).
type api interface {
	CreateQueue(context.Context, *awssqs.CreateQueueInput, ...func(*awssqs.Options)) (*awssqs.CreateQueueOutput, error)
	GetQueueAttributes(context.Context, *awssqs.GetQueueAttributesInput, ...func(*awssqs.Options)) (*awssqs.GetQueueAttributesOutput, error)
	SetQueueAttributes(context.Context, *awssqs.SetQueueAttributesInput, ...func(*awssqs.Options)) (*awssqs.SetQueueAttributesOutput, error)
	PurgeQueue(context.Context, *awssqs.PurgeQueueInput, ...func(*awssqs.Options)) (*awssqs.PurgeQueueOutput, error)
	SendMessageBatch(context.Context, *awssqs.SendMessageBatchInput, ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error)
	ReceiveMessage(context.Context, *awssqs.ReceiveMessageInput, ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error)
	DeleteMessage(context.Context, *awssqs.DeleteMessageInput, ...func(*awssqs.Options)) (*awssqs.DeleteMessageOutput, error)
}

var _ api = (*awssqs.Client)(nil)

// Client is the harness's SQS client.
type Client struct {
	api    api
	env    Env
	logger *slog.Logger
	// sleep waits between retries (tests shorten it).
	sleep func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*options)

type options struct {
	logger     *slog.Logger
	httpClient *http.Client
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithHTTPClient sets the HTTP client of the SQS API calls (default: the
// SDK's, which honours HTTP_PROXY for non-loopback endpoints).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

func buildOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// NewClient returns a client for env's harness endpoint. It does no I/O.
func NewClient(ctx context.Context, env Env, opts ...Option) (*Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqs: new client: %w", err)
	}
	o := buildOptions(opts)
	hc := o.httpClient
	if env.Emulator == EmulatorGoaws {
		hc = withGoawsFixups(hc)
	}
	a, err := NewAPIClient(env.Endpoint, env.Region, env.AccessKeyID, env.SecretAccessKey, env.SessionToken, hc)
	if err != nil {
		return nil, fmt.Errorf("sqs: new client: %w", err)
	}
	return &Client{api: a, env: env, logger: o.logger, sleep: sleepCtx}, nil
}

// NewAPIClient builds an SDK client with static credentials (token: the
// session token of temporary ones, or "") and, when
// endpoint is set, that endpoint (BaseEndpoint); hc, when set, makes its
// HTTP calls. The harness's Client and the emulated app (sqsapp) use it.
func NewAPIClient(endpoint, region, keyID, secret, token string, hc *http.Client) (*awssqs.Client, error) {
	if region == "" {
		return nil, errors.New("no region")
	}
	if keyID == "" || secret == "" {
		return nil, errors.New("no static credentials (access key id and secret access key)")
	}
	o := awssqs.Options{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: token, Source: "scalebench static credentials"}, nil
		}),
	}
	if endpoint != "" {
		if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
			return nil, fmt.Errorf("endpoint %q: want an http:// or https:// URL", endpoint)
		}
		o.BaseEndpoint = aws.String(endpoint)
	}
	if hc != nil {
		o.HTTPClient = hc
	}
	return awssqs.New(o), nil
}

// Env is the environment the client was made for.
func (c *Client) Env() Env { return c.env }

// CreateQueue creates the queue (or finds it), sets its visibility timeout
// (rounded up to whole seconds) and purges messages left from earlier runs.
// It returns the queue URL as the endpoint reports it; only its path
// (/<account>/<name>) matters to the SDK and to KEDA, which both send requests
// to the endpoint.
func (c *Client) CreateQueue(ctx context.Context, name string, visibilityTimeout time.Duration) (string, error) {
	if name == "" {
		return "", errors.New("sqs: create queue: empty name")
	}
	vt := strconv.Itoa(int(math.Ceil(visibilityTimeout.Seconds())))
	out, err := c.api.CreateQueue(ctx, &awssqs.CreateQueueInput{
		QueueName:  aws.String(name),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNameVisibilityTimeout): vt},
	})
	if err != nil {
		return "", fmt.Errorf("sqs: create queue %q: %w", name, err)
	}
	url := aws.ToString(out.QueueUrl)
	// An existing queue keeps its attributes on CreateQueue (goaws) or fails
	// when they differ (SQS): set the visibility timeout explicitly.
	if _, err := c.api.SetQueueAttributes(ctx, &awssqs.SetQueueAttributesInput{
		QueueUrl:   aws.String(url),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNameVisibilityTimeout): vt},
	}); err != nil {
		return "", fmt.Errorf("sqs: create queue %q: set visibility timeout: %w", name, err)
	}
	if err := c.purge(ctx, url); err != nil {
		return "", fmt.Errorf("sqs: create queue %q: %w", name, err)
	}
	c.logger.Info("queue ready", "queue", url, "visibilityTimeout", vt+"s")
	return url, nil
}

// purge empties a queue: PurgeQueue, or, when SQS refuses a second purge
// within 60 s, receiving and deleting until it is empty.
func (c *Client) purge(ctx context.Context, url string) error {
	_, err := c.api.PurgeQueue(ctx, &awssqs.PurgeQueueInput{QueueUrl: aws.String(url)})
	var inProgress *sqstypes.PurgeQueueInProgress
	if err == nil {
		return nil
	}
	if !errors.As(err, &inProgress) {
		return fmt.Errorf("purge: %w", err)
	}
	for {
		out, err := c.api.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		})
		if err != nil {
			return fmt.Errorf("purge by receive and delete: %w", err)
		}
		if len(out.Messages) == 0 {
			return nil
		}
		for _, m := range out.Messages {
			if _, err := c.api.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return fmt.Errorf("purge by receive and delete: %w", err)
			}
		}
	}
}

// SetDeadLetterQueue gives the queue a redrive policy: a message received
// maxReceiveCount times without being deleted moves to the dead-letter queue.
// Invalid messages, which the app leaves in the queue, end there instead of
// keeping the queue (and so the workload) from ever reaching zero.
func (c *Client) SetDeadLetterQueue(ctx context.Context, queueURL, deadLetterURL string, maxReceiveCount int) error {
	if maxReceiveCount < 1 {
		return fmt.Errorf("sqs: dead-letter queue for %s: maxReceiveCount %d < 1", queueURL, maxReceiveCount)
	}
	out, err := c.api.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(deadLetterURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return fmt.Errorf("sqs: dead-letter queue %s: arn: %w", deadLetterURL, err)
	}
	arn := out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if arn == "" {
		return fmt.Errorf("sqs: dead-letter queue %s: no QueueArn attribute", deadLetterURL)
	}
	policy, err := json.Marshal(map[string]string{"deadLetterTargetArn": arn, "maxReceiveCount": strconv.Itoa(maxReceiveCount)})
	if err != nil {
		return fmt.Errorf("sqs: dead-letter queue for %s: %w", queueURL, err)
	}
	attrs := map[string]string{string(sqstypes.QueueAttributeNameRedrivePolicy): string(policy)}
	if c.env.Emulator == EmulatorGoaws {
		vt := string(sqstypes.QueueAttributeNameVisibilityTimeout)
		cur, err := c.api.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{
			QueueUrl: aws.String(queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeName(vt)},
		})
		if err != nil {
			return fmt.Errorf("sqs: redrive policy of %s: visibility timeout: %w", queueURL, err)
		}
		if v := cur.Attributes[vt]; v != "" {
			attrs[vt] = v
		}
	}
	if _, err := c.api.SetQueueAttributes(ctx, &awssqs.SetQueueAttributesInput{
		QueueUrl:   aws.String(queueURL),
		Attributes: attrs,
	}); err != nil {
		return fmt.Errorf("sqs: set redrive policy of %s: %w", queueURL, err)
	}
	return nil
}

// Depth returns the messages waiting (visible) and received but neither
// deleted nor returned yet (in flight): ApproximateNumberOfMessages and
// ApproximateNumberOfMessagesNotVisible, corrected for emulators that count
// in-flight messages as visible (EmulatorGoaws).
func (c *Client) Depth(ctx context.Context, queueURL string) (visible, inFlight int64, err error) {
	out, err := c.api.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		return 0, 0, fmt.Errorf("sqs: depth of %s: %w", queueURL, err)
	}
	return depthFromAttributes(out.Attributes, c.env.Emulator == EmulatorGoaws)
}

func depthFromAttributes(attrs map[string]string, visibleIncludesInFlight bool) (visible, inFlight int64, err error) {
	get := func(name sqstypes.QueueAttributeName) (int64, error) {
		s, ok := attrs[string(name)]
		if !ok {
			return 0, fmt.Errorf("sqs: depth: attribute %s missing", name)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("sqs: depth: attribute %s=%q: %w", name, s, err)
		}
		return n, nil
	}
	if visible, err = get(sqstypes.QueueAttributeNameApproximateNumberOfMessages); err != nil {
		return 0, 0, err
	}
	if inFlight, err = get(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible); err != nil {
		return 0, 0, err
	}
	if visibleIncludesInFlight {
		visible = max(visible-inFlight, 0)
	}
	return visible, inFlight, nil
}

// Peek lists the ids of the messages visible now, by receiving them with
// visibility timeout hide and not deleting them: they are visible again once
// hide has passed. For checking a queue nobody consumes (a dead-letter queue).
func (c *Client) Peek(ctx context.Context, queueURL string, hide time.Duration) ([]string, error) {
	seen := map[string]bool{}
	var ids []string
	for {
		out, err := c.api.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
			QueueUrl:            aws.String(queueURL),
			MaxNumberOfMessages: 10,
			VisibilityTimeout:   int32(max(math.Ceil(hide.Seconds()), 1)),
		})
		if err != nil {
			return ids, fmt.Errorf("sqs: peek %s: %w", queueURL, err)
		}
		if len(out.Messages) == 0 {
			return ids, nil
		}
		for _, m := range out.Messages {
			id := aws.ToString(m.MessageId)
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
