package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Verification is what Verify found in Redis.
type Verification struct {
	// Processed counts valid messages with a correct record.
	Processed int64
	// Missing counts valid messages without a record.
	Missing int64
	// Wrong counts records that are not what Transform makes of the message
	// (unparsable, a field wrong or missing), plus records of invalid messages.
	Wrong int64
	// Problems describe the first few missing and wrong records.
	Problems []string
	// NotStored are the ids of the valid messages without a correct record
	// (missing or wrong), sorted.
	NotStored []string
}

// maxProblems bounds Verification.Problems.
const maxProblems = 10

// verifyChunk is how many keys one MGET reads.
const verifyChunk = 500

// Verify checks Redis at redisAddr (host:port) for exactly the records the
// sample should have written for sent: one correct record per valid message
// (firstName, lastName, fullName, adult) under its message id, none for an
// invalid one. The error is for Redis failures only; what is missing or
// wrong is in the Verification.
func Verify(ctx context.Context, redisAddr string, sent SendResult) (Verification, error) {
	rdb := redis.NewClient(RedisOptions(&redis.Options{Addr: redisAddr}))
	defer rdb.Close()
	v, err := verify(ctx, sent, func(ctx context.Context, keys []string) ([]any, error) {
		return rdb.MGet(ctx, keys...).Result()
	})
	if err != nil {
		return v, fmt.Errorf("sqs: verify records in redis %s: %w", redisAddr, err)
	}
	return v, nil
}

// RedisOptions sets the timeouts and retries the harness and the app use:
// fail within seconds when Redis is down rather than hang.
func RedisOptions(o *redis.Options) *redis.Options {
	quietRedisOnce.Do(func() { redis.SetLogger(redisDebugLogger{}) })
	o.DialTimeout = 2 * time.Second
	o.DialerRetries = 1 // a store that is down fails the SET at once; the message is retried by SQS
	o.ReadTimeout = 2 * time.Second
	o.WriteTimeout = 2 * time.Second
	o.MaxRetries = 1
	o.PoolSize = 4
	o.DisableIdentity = true // no CLIENT SETINFO: works with older servers and Valkey alike
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return o
}

// mget reads keys; a missing key reads as nil.
type mget func(ctx context.Context, keys []string) ([]any, error)

func verify(ctx context.Context, sent SendResult, get mget) (Verification, error) {
	var v Verification
	problem := func(format string, args ...any) {
		if len(v.Problems) < maxProblems {
			v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
		}
	}
	validIDs := make([]string, 0, len(sent.Valid))
	for id := range sent.Valid {
		validIDs = append(validIDs, id)
	}
	slices.Sort(validIDs) // stable Problems
	err := inChunks(ctx, validIDs, get, func(id string, val any) {
		want := Transform(sent.Valid[id])
		if val == nil {
			v.Missing++
			v.NotStored = append(v.NotStored, id)
			problem("message %s: no record (want %s)", id, recordJSON(want))
			return
		}
		got, err := parseRecord(val)
		switch {
		case err != nil:
			v.Wrong++
			v.NotStored = append(v.NotStored, id)
			problem("message %s: record %.120q: %v", id, fmt.Sprint(val), err)
		case got != want:
			v.Wrong++
			v.NotStored = append(v.NotStored, id)
			problem("message %s: record %s, want %s", id, recordJSON(got), recordJSON(want))
		default:
			v.Processed++
		}
	})
	if err != nil {
		return v, err
	}
	err = inChunks(ctx, sent.InvalidIDs, get, func(id string, val any) {
		if val != nil {
			v.Wrong++
			problem("invalid message %s: has a record %.120q", id, fmt.Sprint(val))
		}
	})
	return v, err
}

func inChunks(ctx context.Context, keys []string, get mget, each func(key string, val any)) error {
	for start := 0; start < len(keys); start += verifyChunk {
		chunk := keys[start:min(start+verifyChunk, len(keys))]
		vals, err := get(ctx, chunk)
		if err != nil {
			return err
		}
		if len(vals) != len(chunk) {
			return fmt.Errorf("MGET of %d keys answered %d values", len(chunk), len(vals))
		}
		for i, k := range chunk {
			each(k, vals[i])
		}
	}
	return nil
}

// parseRecord decodes a stored record strictly: all four fields, nothing else.
func parseRecord(val any) (Record, error) {
	s, ok := val.(string)
	if !ok {
		return Record{}, fmt.Errorf("value of type %T", val)
	}
	var in struct {
		FirstName *string `json:"firstName"`
		LastName  *string `json:"lastName"`
		FullName  *string `json:"fullName"`
		Adult     *bool   `json:"adult"`
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Record{}, fmt.Errorf("not a record: %w", err)
	}
	if in.FirstName == nil || in.LastName == nil || in.FullName == nil || in.Adult == nil {
		return Record{}, errors.New("not a record: a field is missing")
	}
	return Record{FirstName: *in.FirstName, LastName: *in.LastName, FullName: *in.FullName, Adult: *in.Adult}, nil
}

func recordJSON(r Record) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// go-redis logs through a package-global logger, to stderr by default: a
// line per failed dial while Redis is down. Callers here get those errors
// returned, so the lines go to slog.Default at debug level instead (set
// once, for the whole process, by the first client this package makes).
var quietRedisOnce sync.Once

type redisDebugLogger struct{}

func (redisDebugLogger) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().DebugContext(ctx, fmt.Sprintf(format, v...), "source", "go-redis")
}
