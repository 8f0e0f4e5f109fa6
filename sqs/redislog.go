package sqs

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

var quietRedis sync.Once

// silenceRedisLogs stops go-redis from printing every failed dial to
// stderr (its logger is global): a store that is down is reported through
// errors, once, by whoever uses it.
func silenceRedisLogs() {
	quietRedis.Do(func() { redis.SetLogger(discardLogger{}) })
}

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

func init() { silenceRedisLogs() }
