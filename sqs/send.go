package sqs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// MaxBatchSize is the most entries one SendMessageBatch takes.
const MaxBatchSize = 10

// SendOptions describe the load: Messages messages in SendMessageBatch calls
// of BatchSize entries.
type SendOptions struct {
	QueueURL string
	Messages int
	// BatchSize is 1..MaxBatchSize; 0 means MaxBatchSize.
	BatchSize int
	// Rate is batches per second; 0 sends as fast as the endpoint answers.
	Rate float64
	// Due, when set, is an arrival profile: message i is due Due[i] after
	// the start (ascending). It replaces Messages (len(Due) is the count)
	// and Rate: a batch holds consecutive messages due within
	// ArrivalBatchWindow of its first and goes when its last is due.
	Due []time.Duration
	// InvalidShare (0..1) of the messages are invalid on purpose, a
	// deterministic mix (missing lastName, negative age, not JSON, …) spread
	// evenly over the run.
	InvalidShare float64
	// Seed makes names, ages and the mix reproducible.
	Seed int64
}

// SendResult is what Send got into the queue. Messages the endpoint
// accepted are always in it, also when Send returns an error.
type SendResult struct {
	// Sent counts accepted messages, valid and invalid.
	Sent int64
	// Invalid counts accepted invalid messages.
	Invalid int64
	// Valid holds every accepted valid message's customer by SQS message id.
	Valid map[string]Customer
	// InvalidIDs are the accepted invalid messages' ids, in send order.
	InvalidIDs []string
	// Started and Finished bracket the sending.
	Started, Finished time.Time
	// SentAt is, for each accepted message in send order, when the call
	// that got it accepted returned, from Started.
	SentAt []time.Duration
}

// ArrivalBatchWindow is how far apart the due times of messages sent in one
// batch may be (SendOptions.Due): a message is sent at most this late
// for batching's sake.
const ArrivalBatchWindow = 100 * time.Millisecond

// dueBatches groups messages due at due (ascending) into batches of at most
// size whose due times span less than window; each batch is sent at its
// last message's due time.
func dueBatches(due []time.Duration, size int, window time.Duration) (bs [][2]int, at []time.Duration) {
	for i := 0; i < len(due); {
		j := i + 1
		for j < len(due) && j-i < size && due[j]-due[i] < window {
			j++
		}
		bs = append(bs, [2]int{i, j})
		at = append(at, due[j-1])
		i = j
	}
	return bs, at
}

// sendAttempts bounds the SendMessageBatch calls for one batch; entries
// still failing then make Send fail (they are never dropped silently).
const sendAttempts = 8

// Send sends o.Messages messages to o.QueueURL. Entries that fail (the whole
// call or single entries) are retried with backoff; an entry the endpoint
// blames on the sender, or one still failing after the retries, ends Send
// with an error naming it, returning what was accepted so far. A call that
// failed after reaching the endpoint may have stored its messages anyway: on
// retry those become duplicates (SQS standard queues deliver at least once
// too), under message ids the result does not list.
//
// progress, when not nil, receives a line every tenth of the messages.
func (c *Client) Send(ctx context.Context, o SendOptions, progress io.Writer) (res SendResult, err error) {
	res.Valid = map[string]Customer{}
	if err := o.validate(); err != nil {
		return res, err
	}
	size := o.BatchSize
	if size == 0 {
		size = MaxBatchSize
	}
	if o.Due != nil {
		o.Messages = len(o.Due)
	}
	msgs := generate(o.Messages, o.InvalidShare, o.Seed)
	bs, due := batches(len(msgs), size), []time.Duration(nil)
	switch {
	case o.Due != nil:
		bs, due = dueBatches(o.Due, size, ArrivalBatchWindow)
	case o.Rate > 0:
		for i := range bs {
			due = append(due, time.Duration(float64(i)/o.Rate*float64(time.Second)))
		}
	}
	res.Started = time.Now()
	defer func() { res.Finished = time.Now() }()
	nextReport := 1
	for i, b := range bs {
		if due != nil {
			at := res.Started.Add(due[i])
			if err := c.sleep(ctx, time.Until(at)); err != nil {
				return res, fmt.Errorf("sqs: send to %s: %d of %d messages sent: %w", o.QueueURL, res.Sent, o.Messages, err)
			}
		}
		batch := msgs[b[0]:b[1]]
		ids, err := c.sendBatch(ctx, o.QueueURL, batch)
		answered := time.Since(res.Started)
		for j, id := range ids {
			if id == "" {
				continue
			}
			res.Sent++
			res.SentAt = append(res.SentAt, answered)
			if batch[j].valid {
				res.Valid[id] = batch[j].customer
			} else {
				res.Invalid++
				res.InvalidIDs = append(res.InvalidIDs, id)
			}
		}
		if err != nil {
			return res, fmt.Errorf("sqs: send to %s: batch %d (messages %d..%d): %w", o.QueueURL, i+1, b[0]+1, b[1], err)
		}
		for progress != nil && nextReport <= 10 && int(res.Sent)*10 >= nextReport*o.Messages {
			fmt.Fprintf(progress, "sqs: sent %d/%d messages (%d invalid) in %s\n", res.Sent, o.Messages, res.Invalid, time.Since(res.Started).Round(time.Millisecond))
			nextReport++
		}
	}
	c.logger.Info("messages sent", "queue", o.QueueURL, "sent", res.Sent, "invalid", res.Invalid, "elapsed", time.Since(res.Started).Round(time.Millisecond))
	return res, nil
}

func (o SendOptions) validate() error {
	var errs []error
	if o.QueueURL == "" {
		errs = append(errs, errors.New("QueueURL is empty"))
	}
	if o.Messages < 0 {
		errs = append(errs, fmt.Errorf("Messages %d < 0", o.Messages))
	}
	if o.BatchSize < 0 || o.BatchSize > MaxBatchSize {
		errs = append(errs, fmt.Errorf("BatchSize %d outside 1..%d", o.BatchSize, MaxBatchSize))
	}
	if o.Rate < 0 {
		errs = append(errs, fmt.Errorf("Rate %g < 0", o.Rate))
	}
	if o.Due != nil && (o.Messages != 0 || o.Rate != 0) {
		errs = append(errs, errors.New("Due replaces Messages and Rate: set either"))
	}
	for i := 1; i < len(o.Due); i++ {
		if o.Due[i] < o.Due[i-1] {
			errs = append(errs, fmt.Errorf("Due[%d] %v before Due[%d] %v: due times must ascend", i, o.Due[i], i-1, o.Due[i-1]))
			break
		}
	}
	if o.InvalidShare < 0 || o.InvalidShare > 1 {
		errs = append(errs, fmt.Errorf("InvalidShare %g outside 0..1", o.InvalidShare))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqs: send options: %w", err)
	}
	return nil
}

// sendBatch sends one batch and returns the message id of each entry, in
// batch order; "" for an entry that was not accepted (then err says why).
func (c *Client) sendBatch(ctx context.Context, queueURL string, batch []message) ([]string, error) {
	ids := make([]string, len(batch))
	pending := make([]int, len(batch))
	for i := range pending {
		pending[i] = i
	}
	backoff := 100 * time.Millisecond
	var lastErr error
	for attempt := 1; len(pending) > 0; attempt++ {
		if attempt > sendAttempts {
			return ids, fmt.Errorf("%d entries not accepted after %d attempts: %w", len(pending), sendAttempts, lastErr)
		}
		if attempt > 1 {
			if err := c.sleep(ctx, backoff); err != nil {
				return ids, fmt.Errorf("%d entries not accepted: %w (last failure: %w)", len(pending), err, lastErr)
			}
			backoff = min(2*backoff, 3*time.Second)
		}
		entries := make([]sqstypes.SendMessageBatchRequestEntry, len(pending))
		for k, idx := range pending {
			entries[k] = sqstypes.SendMessageBatchRequestEntry{
				Id:          aws.String(entryID(idx)),
				MessageBody: aws.String(batch[idx].body),
			}
		}
		out, err := c.api.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
		if err != nil {
			if ctx.Err() != nil {
				return ids, fmt.Errorf("%d entries not accepted: %w", len(pending), err)
			}
			lastErr = err
			c.logger.Warn("SendMessageBatch failed; retrying", "queue", queueURL, "attempt", attempt, "entries", len(pending), "err", err)
			continue
		}
		var permanent []string
		for _, s := range out.Successful {
			idx, ok := parseEntryID(aws.ToString(s.Id), len(batch))
			if !ok || aws.ToString(s.MessageId) == "" {
				c.logger.Warn("SendMessageBatch answered an entry it was not sent", "queue", queueURL, "id", aws.ToString(s.Id))
				continue
			}
			if ids[idx] == "" {
				ids[idx] = aws.ToString(s.MessageId)
			}
		}
		for _, f := range out.Failed {
			why := fmt.Sprintf("entry %s: %s: %s", aws.ToString(f.Id), aws.ToString(f.Code), aws.ToString(f.Message))
			lastErr = errors.New(why)
			if f.SenderFault {
				permanent = append(permanent, why)
			}
		}
		if len(permanent) > 0 {
			return ids, fmt.Errorf("rejected (sender fault, not retried): %s", strings.Join(permanent, "; "))
		}
		next := pending[:0]
		for _, idx := range pending {
			if ids[idx] == "" {
				next = append(next, idx)
			}
		}
		pending = next
		if len(pending) > 0 {
			if lastErr == nil {
				lastErr = fmt.Errorf("%d entries neither successful nor failed in the answer", len(pending))
			}
			c.logger.Warn("SendMessageBatch entries failed; retrying them", "queue", queueURL, "attempt", attempt, "entries", len(pending), "err", lastErr)
		}
	}
	return ids, nil
}

func entryID(i int) string { return "m" + strconv.Itoa(i) }

func parseEntryID(s string, n int) (int, bool) {
	i, err := strconv.Atoi(strings.TrimPrefix(s, "m"))
	if err != nil || !strings.HasPrefix(s, "m") || i < 0 || i >= n {
		return 0, false
	}
	return i, true
}
