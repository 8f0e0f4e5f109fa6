// Package sqsapp is the customer-transformer sample's I/O as the emulated
// data plane runs it for every ready pod of its sqs-transformer model:
// configured from the pod environment the sample's Deployment sets
// (AppConfigFromEnv), it receives messages, validates and transforms each
// with the sample's logic (sqs.Validate, sqs.Transform, shared with the real
// app through fixtures/customer-transformer/testdata/cases.json), writes the
// record to Redis and deletes only what it stored.
package sqsapp

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
	"github.com/redis/go-redis/v9"

	"github.com/scalebench/scalebench/sqs"
)

// Environment variables the app reads, as the sample's Deployment sets them.
const (
	EnvEndpointURL     = "AWS_ENDPOINT_URL_SQS"
	EnvRegion          = "AWS_DEFAULT_REGION"
	EnvAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvQueueURL        = "SQS_QUEUE_URL"
	// EnvRedisConnectionString is a redis:// URL ("redis://host:port").
	EnvRedisConnectionString = "REDIS_CONNECTION_STRING"
)

// Fallbacks the AWS SDKs also read.
const (
	envEndpointURLAll = "AWS_ENDPOINT_URL"
	envRegionAlt      = "AWS_REGION"
)

// AppConfig is the app's configuration.
type AppConfig struct {
	// Endpoint is the SQS endpoint; empty means AWS's regional endpoint.
	Endpoint        string
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	QueueURL        string
	// RedisURL is "redis://[user:password@]host:port[/db]".
	RedisURL string
}

// AppConfigFromEnv reads the app's configuration from its environment
// (Env* names; AWS_ENDPOINT_URL and AWS_REGION as the SDKs' fallbacks). The
// error names every variable that is missing.
func AppConfigFromEnv(env map[string]string) (AppConfig, error) {
	first := func(names ...string) string {
		for _, n := range names {
			if v := env[n]; v != "" {
				return v
			}
		}
		return ""
	}
	cfg := AppConfig{
		Endpoint:        first(EnvEndpointURL, envEndpointURLAll),
		Region:          first(EnvRegion, envRegionAlt),
		AccessKeyID:     env[EnvAccessKeyID],
		SecretAccessKey: env[EnvSecretAccessKey],
		QueueURL:        env[EnvQueueURL],
		RedisURL:        env[EnvRedisConnectionString],
	}
	var missing []string
	for _, f := range []struct{ name, val string }{
		{EnvRegion, cfg.Region}, {EnvAccessKeyID, cfg.AccessKeyID}, {EnvSecretAccessKey, cfg.SecretAccessKey},
		{EnvQueueURL, cfg.QueueURL}, {EnvRedisConnectionString, cfg.RedisURL},
	} {
		if f.val == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return cfg, fmt.Errorf("sqs app: environment lacks %s", strings.Join(missing, ", "))
	}
	return cfg, nil
}

// Env returns the environment variables that configure the app: what a
// Deployment of it sets (secrets aside, see the Env* names).
func (c AppConfig) Env() map[string]string {
	return map[string]string{
		EnvEndpointURL: c.Endpoint, EnvRegion: c.Region,
		EnvAccessKeyID: c.AccessKeyID, EnvSecretAccessKey: c.SecretAccessKey,
		EnvQueueURL: c.QueueURL, EnvRedisConnectionString: c.RedisURL,
	}
}

// store is where the app writes records (Redis).
type store interface {
	Set(ctx context.Context, key string, value []byte) error
	Close() error
}

type redisStore struct{ rdb *redis.Client }

func (s redisStore) Set(ctx context.Context, key string, value []byte) error {
	return s.rdb.Set(ctx, key, value, 0).Err()
}

func (s redisStore) Close() error { return s.rdb.Close() }

// queue is the part of the SQS API the app uses (*awssqs.Client).
type queue interface {
	ReceiveMessage(context.Context, *awssqs.ReceiveMessageInput, ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error)
	DeleteMessage(context.Context, *awssqs.DeleteMessageInput, ...func(*awssqs.Options)) (*awssqs.DeleteMessageOutput, error)
}

var _ queue = (*awssqs.Client)(nil)

// App is the sample app's I/O: it receives from the queue, writes records to
// Redis and deletes what it processed.
type App struct {
	sqs      queue
	store    store
	queueURL string
	http     *http.Client // its idle connections are closed with the app
	logger   *slog.Logger
}

// NewApp connects nothing yet: the first Receive and Handle do. SQS calls
// go direct (no proxy from the environment), as from a pod. logger may be
// nil.
func NewApp(cfg AppConfig, logger *slog.Logger) (*App, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ropts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("sqs app: %s %q: %w", EnvRedisConnectionString, cfg.RedisURL, err)
	}
	own := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}}
	a, err := sqs.NewAPIClient(cfg.Endpoint, cfg.Region, cfg.AccessKeyID, cfg.SecretAccessKey, "", own)
	if err != nil {
		return nil, fmt.Errorf("sqs app: %w", err)
	}
	if cfg.QueueURL == "" {
		return nil, fmt.Errorf("sqs app: %s is empty", EnvQueueURL)
	}
	return &App{
		sqs:      a,
		store:    redisStore{rdb: redis.NewClient(sqs.RedisOptions(ropts))},
		queueURL: cfg.QueueURL,
		http:     own,
		logger:   logger,
	}, nil
}

// ReceivedMessage is one message as received.
type ReceivedMessage struct {
	ID            string
	ReceiptHandle string
	Body          []byte
	// ReceiveCount is ApproximateReceiveCount (1 on first delivery; 0 when
	// the endpoint does not say).
	ReceiveCount int
}

// Receive asks for up to n (1..10) messages, waiting up to wait for one
// (long polling, whole seconds). Received messages are hidden from other
// consumers for the queue's visibility timeout.
func (a *App) Receive(ctx context.Context, n int, wait time.Duration) ([]ReceivedMessage, error) {
	out, err := a.sqs.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(a.queueURL),
		MaxNumberOfMessages:         int32(min(max(n, 1), 10)),
		WaitTimeSeconds:             int32(math.Ceil(wait.Seconds())),
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount},
	})
	if err != nil {
		return nil, fmt.Errorf("sqs app: receive from %s: %w", a.queueURL, err)
	}
	msgs := make([]ReceivedMessage, 0, len(out.Messages))
	for _, m := range out.Messages {
		n, _ := strconv.Atoi(m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
		msgs = append(msgs, ReceivedMessage{
			ID:            aws.ToString(m.MessageId),
			ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body:          []byte(aws.ToString(m.Body)),
			ReceiveCount:  n,
		})
	}
	return msgs, nil
}

// Outcome is what Handle did with a message.
type Outcome int

const (
	// Processed: the record was written and the message deleted.
	Processed Outcome = iota
	// LeftInvalid: the message is invalid and was left in the queue; it
	// returns after the visibility timeout (or moves to a dead-letter queue).
	LeftInvalid
	// StoreFailed: writing the record failed; the message was not deleted
	// and returns after the visibility timeout.
	StoreFailed
	// DeleteFailed: the record was written but the delete failed; the
	// message returns and is written again (SET is idempotent).
	DeleteFailed
)

func (o Outcome) String() string {
	switch o {
	case Processed:
		return "processed"
	case LeftInvalid:
		return "left-invalid"
	case StoreFailed:
		return "store-failed"
	case DeleteFailed:
		return "delete-failed"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// Handle processes one message as the sample does: validate; if invalid,
// leave it; else transform, SET <message id> <record JSON>, and delete the
// message only if the SET succeeded. The error says why for every outcome
// but Processed (for LeftInvalid it wraps sqs.ErrInvalidCustomer).
func (a *App) Handle(ctx context.Context, m ReceivedMessage) (Outcome, error) {
	c, err := sqs.Validate(m.Body)
	if err != nil {
		return LeftInvalid, fmt.Errorf("sqs app: message %s: %w", m.ID, err)
	}
	data, err := json.Marshal(sqs.Transform(c))
	if err != nil {
		return StoreFailed, fmt.Errorf("sqs app: message %s: %w", m.ID, err)
	}
	if err := a.store.Set(ctx, m.ID, data); err != nil {
		return StoreFailed, fmt.Errorf("sqs app: message %s: store record: %w", m.ID, err)
	}
	if _, err := a.sqs.DeleteMessage(ctx, &awssqs.DeleteMessageInput{
		QueueUrl: aws.String(a.queueURL), ReceiptHandle: aws.String(m.ReceiptHandle),
	}); err != nil {
		return DeleteFailed, fmt.Errorf("sqs app: message %s: delete: %w", m.ID, err)
	}
	return Processed, nil
}

// Close releases the Redis connections and idle HTTP connections.
func (a *App) Close() error {
	if a.http != nil {
		a.http.CloseIdleConnections()
	}
	if err := a.store.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("sqs app: close redis client: %w", err)
	}
	return nil
}
