package sqsapp

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/scalebench/scalebench/sqs"
)

func TestAppConfigFromEnv(t *testing.T) {
	env := map[string]string{
		EnvEndpointURL: "http://127.0.0.1:4100", EnvRegion: "us-east-1",
		EnvAccessKeyID: "id", EnvSecretAccessKey: "secret",
		EnvQueueURL: "http://x/100010001000/q", EnvRedisConnectionString: "redis://127.0.0.1:6379",
	}
	cfg, err := AppConfigFromEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != "http://127.0.0.1:4100" || cfg.Region != "us-east-1" || cfg.RedisURL != "redis://127.0.0.1:6379" {
		t.Errorf("config %+v", cfg)
	}
	for k, v := range cfg.Env() {
		if env[k] != v {
			t.Errorf("Env()[%s] = %q, want %q", k, v, env[k])
		}
	}
	// The SDKs' fallbacks.
	cfg, err = AppConfigFromEnv(map[string]string{
		"AWS_ENDPOINT_URL": "http://e", "AWS_REGION": "eu-west-1",
		EnvAccessKeyID: "id", EnvSecretAccessKey: "s", EnvQueueURL: "q", EnvRedisConnectionString: "redis://r:1",
	})
	if err != nil || cfg.Endpoint != "http://e" || cfg.Region != "eu-west-1" {
		t.Errorf("fallbacks: %+v, %v", cfg, err)
	}
	_, err = AppConfigFromEnv(map[string]string{EnvRegion: "r"})
	if err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, SQS_QUEUE_URL, REDIS_CONNECTION_STRING") {
		t.Errorf("err = %v", err)
	}
}

// fakeQueue answers DeleteMessage with del; ReceiveMessage is not faked.
type fakeQueue struct {
	del func(*awssqs.DeleteMessageInput) (*awssqs.DeleteMessageOutput, error)
}

func (f *fakeQueue) ReceiveMessage(context.Context, *awssqs.ReceiveMessageInput, ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error) {
	return nil, errors.New("not faked")
}

func (f *fakeQueue) DeleteMessage(_ context.Context, in *awssqs.DeleteMessageInput, _ ...func(*awssqs.Options)) (*awssqs.DeleteMessageOutput, error) {
	return f.del(in)
}

type fakeStore struct {
	err  error
	sets map[string]string
}

func (s *fakeStore) Set(_ context.Context, k string, v []byte) error {
	if s.err != nil {
		return s.err
	}
	s.sets[k] = string(v)
	return nil
}

func (s *fakeStore) Close() error { return nil }

func TestAppHandle(t *testing.T) {
	valid := ReceivedMessage{ID: "m1", ReceiptHandle: "rh1", Body: []byte(`{"firstName":"Ada","lastName":"Lovelace","age":36}`)}
	invalid := ReceivedMessage{ID: "m2", ReceiptHandle: "rh2", Body: []byte(`{"firstName":"Ada","age":36}`)}
	for _, tc := range []struct {
		name     string
		msg      ReceivedMessage
		storeErr error
		delErr   error
		want     Outcome
		stored   bool
		deleted  bool
	}{
		{"valid", valid, nil, nil, Processed, true, true},
		{"invalid is left", invalid, nil, nil, LeftInvalid, false, false},
		{"redis down: not deleted", valid, errors.New("dial tcp: connection refused"), nil, StoreFailed, false, false},
		{"delete fails", valid, nil, errors.New("throttled"), DeleteFailed, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{err: tc.storeErr, sets: map[string]string{}}
			var deleted []string
			f := &fakeQueue{del: func(in *awssqs.DeleteMessageInput) (*awssqs.DeleteMessageOutput, error) {
				if len(st.sets) == 0 {
					t.Error("delete before the record was stored")
				}
				deleted = append(deleted, aws.ToString(in.ReceiptHandle))
				return &awssqs.DeleteMessageOutput{}, tc.delErr
			}}
			a := &App{sqs: f, store: st, queueURL: "q", logger: slog.New(slog.DiscardHandler)}
			got, err := a.Handle(context.Background(), tc.msg)
			if got != tc.want || (err == nil) != (tc.want == Processed) {
				t.Fatalf("Handle = %v, %v; want %v", got, err, tc.want)
			}
			if tc.want == LeftInvalid && !errors.Is(err, sqs.ErrInvalidCustomer) {
				t.Errorf("err %v does not wrap ErrInvalidCustomer", err)
			}
			if tc.stored != (st.sets[tc.msg.ID] != "") || tc.deleted != (len(deleted) == 1) {
				t.Errorf("stored %v deleted %v", st.sets, deleted)
			}
			if tc.stored && st.sets["m1"] != `{"firstName":"Ada","lastName":"Lovelace","fullName":"Ada Lovelace","adult":true}` {
				t.Errorf("record %s", st.sets["m1"])
			}
		})
	}
}

func TestNewAppRejectsBadConfig(t *testing.T) {
	base := AppConfig{Endpoint: "http://127.0.0.1:1", Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "b", QueueURL: "q", RedisURL: "redis://127.0.0.1:2"}
	if a, err := NewApp(base, nil); err != nil {
		t.Fatal(err)
	} else {
		a.Close()
	}
	for name, mut := range map[string]func(*AppConfig){
		"redis url": func(c *AppConfig) { c.RedisURL = "http://x" },
		"endpoint":  func(c *AppConfig) { c.Endpoint = "127.0.0.1:1" },
		"region":    func(c *AppConfig) { c.Region = "" },
		"queue":     func(c *AppConfig) { c.QueueURL = "" },
	} {
		c := base
		mut(&c)
		if _, err := NewApp(c, nil); err == nil {
			t.Errorf("%s: accepted %+v", name, c)
		}
	}
}
