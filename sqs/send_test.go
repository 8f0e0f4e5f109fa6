package sqs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// testClient returns a client on a fake API whose sleeps only record.
func testClient(f *fakeAPI, env Env) (*Client, *[]time.Duration) {
	var slept []time.Duration
	return &Client{api: f, env: env, logger: slog.New(slog.DiscardHandler), sleep: func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return ctx.Err()
	}}, &slept
}

// acceptingQueue answers like SQS and keeps every body by message id.
type acceptingQueue struct {
	n      atomic.Int64
	bodies map[string]string
	// fail decides whether an entry fails this time (nil: never).
	fail  func(call int, entryID string) *sqstypes.BatchResultErrorEntry
	calls int
	sizes []int
}

func (q *acceptingQueue) send(in *awssqs.SendMessageBatchInput) (*awssqs.SendMessageBatchOutput, error) {
	q.calls++
	q.sizes = append(q.sizes, len(in.Entries))
	out := &awssqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		if q.fail != nil {
			if f := q.fail(q.calls, aws.ToString(e.Id)); f != nil {
				out.Failed = append(out.Failed, *f)
				continue
			}
		}
		id := fmt.Sprintf("id-%04d", q.n.Add(1))
		q.bodies[id] = aws.ToString(e.MessageBody)
		out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String(id)})
	}
	return out, nil
}

func checkResult(t *testing.T, res SendResult, bodies map[string]string, sent, invalid int) {
	t.Helper()
	if res.Sent != int64(sent) || res.Invalid != int64(invalid) || len(res.Valid) != sent-invalid || len(res.InvalidIDs) != invalid {
		t.Fatalf("result: sent %d invalid %d valid %d invalidIDs %d; want %d sent, %d invalid", res.Sent, res.Invalid, len(res.Valid), len(res.InvalidIDs), sent, invalid)
	}
	if len(bodies) != sent {
		t.Fatalf("queue holds %d messages, result says %d", len(bodies), sent)
	}
	for id, c := range res.Valid {
		got, err := Validate([]byte(bodies[id]))
		if err != nil || got != c {
			t.Fatalf("message %s: body %s, result says %+v", id, bodies[id], c)
		}
	}
	for _, id := range res.InvalidIDs {
		if _, err := Validate([]byte(bodies[id])); err == nil {
			t.Fatalf("message %s listed invalid, body %s is valid", id, bodies[id])
		}
	}
}

func TestSendBatchesAndAccountsEveryMessage(t *testing.T) {
	q := &acceptingQueue{bodies: map[string]string{}}
	c, slept := testClient(&fakeAPI{send: q.send}, Env{})
	var progress bytes.Buffer
	res, err := c.Send(context.Background(), SendOptions{QueueURL: "q", Messages: 1000, BatchSize: 10, InvalidShare: 0.05, Seed: 1}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, q.bodies, 1000, 50)
	if q.calls != 100 {
		t.Errorf("%d SendMessageBatch calls, want 100", q.calls)
	}
	for _, s := range q.sizes {
		if s != 10 {
			t.Fatalf("batch sizes %v, want all 10", q.sizes)
		}
	}
	if len(*slept) != 0 {
		t.Errorf("slept %v without a rate", *slept)
	}
	lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
	if len(lines) != 10 || !strings.HasPrefix(lines[9], "sqs: sent 1000/1000 messages (50 invalid)") {
		t.Errorf("progress:\n%s", progress.String())
	}
	if res.Finished.Before(res.Started) {
		t.Errorf("finished %v before started %v", res.Finished, res.Started)
	}
}

func TestSendLastBatchShorterAndDefaultSize(t *testing.T) {
	q := &acceptingQueue{bodies: map[string]string{}}
	c, _ := testClient(&fakeAPI{send: q.send}, Env{})
	res, err := c.Send(context.Background(), SendOptions{QueueURL: "q", Messages: 25}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, q.bodies, 25, 0)
	if fmt.Sprint(q.sizes) != "[10 10 5]" {
		t.Errorf("batch sizes %v", q.sizes)
	}
}

func TestSendRetriesFailedEntries(t *testing.T) {
	// Entry m3 fails twice in every batch, m7 once (server-side faults).
	failures := map[string]int{}
	q := &acceptingQueue{bodies: map[string]string{}}
	batchCall := 0
	q.fail = func(call int, id string) *sqstypes.BatchResultErrorEntry {
		if id == "m0" {
			batchCall++
		}
		key := fmt.Sprint(batchCall, id)
		limit := map[string]int{"m3": 2, "m7": 1}[id]
		if failures[key] < limit {
			failures[key]++
			return &sqstypes.BatchResultErrorEntry{Id: aws.String(id), Code: aws.String("InternalError"), Message: aws.String("try again")}
		}
		return nil
	}
	c, slept := testClient(&fakeAPI{send: q.send}, Env{})
	res, err := c.Send(context.Background(), SendOptions{QueueURL: "q", Messages: 30, BatchSize: 10, InvalidShare: 0.1, Seed: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, q.bodies, 30, 3)
	// Each batch: the first call, a retry of m3+m7, a retry of m3.
	if q.calls != 9 || fmt.Sprint(q.sizes) != "[10 2 1 10 2 1 10 2 1]" {
		t.Errorf("calls %d, sizes %v", q.calls, q.sizes)
	}
	if fmt.Sprint(*slept) != "[100ms 200ms 100ms 200ms 100ms 200ms]" {
		t.Errorf("backoff %v", *slept)
	}
}

func TestSendRetriesFailedCalls(t *testing.T) {
	q := &acceptingQueue{bodies: map[string]string{}}
	calls := 0
	f := &fakeAPI{send: func(in *awssqs.SendMessageBatchInput) (*awssqs.SendMessageBatchOutput, error) {
		calls++
		if calls%2 == 1 {
			return nil, errors.New("connection reset")
		}
		return q.send(in)
	}}
	c, _ := testClient(f, Env{})
	res, err := c.Send(context.Background(), SendOptions{QueueURL: "q", Messages: 20, BatchSize: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, q.bodies, 20, 0)
}

func TestSendGivesUpLoudlyAndKeepsWhatWasAccepted(t *testing.T) {
	q := &acceptingQueue{bodies: map[string]string{}}
	q.fail = func(call int, id string) *sqstypes.BatchResultErrorEntry {
		if call > 1 && id == "m4" {
			return &sqstypes.BatchResultErrorEntry{Id: aws.String(id), Code: aws.String("ServiceUnavailable"), Message: aws.String("down")}
		}
		return nil
	}
	c, _ := testClient(&fakeAPI{send: q.send}, Env{})
	res, err := c.Send(context.Background(), SendOptions{QueueURL: "q", Messages: 30, BatchSize: 10}, nil)
	if err == nil || !strings.Contains(err.Error(), "batch 2 (messages 11..20)") || !strings.Contains(err.Error(), "1 entries not accepted after 8 attempts") || !strings.Contains(err.Error(), "ServiceUnavailable") {
		t.Fatalf("err = %v", err)
	}
	// Batch 1 and nine of batch 2 are in the queue and in the result.
	checkResult(t, res, q.bodies, 19, 0)
}

func TestSendStopsOnSenderFault(t *testing.T) {
	q := &acceptingQueue{bodies: map[string]string{}}
	q.fail = func(_ int, id string) *sqstypes.BatchResultErrorEntry {
		if id == "m2" {
			return &sqstypes.BatchResultErrorEntry{Id: aws.String(id), Code: aws.String("InvalidMessageContents"), Message: aws.String("bad"), SenderFault: true}
		}
		return nil
	}
	c, _ := testClient(&fakeAPI{send: q.send}, Env{})
	res, err := c.Send(context.Background(), SendOptions{QueueURL: "q", Messages: 10}, nil)
	if err == nil || !strings.Contains(err.Error(), "sender fault") || !strings.Contains(err.Error(), "InvalidMessageContents") || q.calls != 1 {
		t.Fatalf("err = %v after %d calls", err, q.calls)
	}
	checkResult(t, res, q.bodies, 9, 0)
}

func TestSendPacesBatches(t *testing.T) {
	q := &acceptingQueue{bodies: map[string]string{}}
	c, slept := testClient(&fakeAPI{send: q.send}, Env{})
	if _, err := c.Send(context.Background(), SendOptions{QueueURL: "q", Messages: 40, BatchSize: 10, Rate: 2}, nil); err != nil {
		t.Fatal(err)
	}
	// Batch i is due at i/2 s after the start: sleeps approach 0, 0.5, 1, 1.5 s.
	if len(*slept) != 4 {
		t.Fatalf("slept %v", *slept)
	}
	for i, d := range *slept {
		want := time.Duration(i) * 500 * time.Millisecond
		if d > want || d < want-100*time.Millisecond {
			t.Errorf("sleep %d = %v, want about %v", i, d, want)
		}
	}
}

func TestSendOptionsValidated(t *testing.T) {
	c, _ := testClient(&fakeAPI{}, Env{})
	_, err := c.Send(context.Background(), SendOptions{Messages: -1, BatchSize: 11, Rate: -1, InvalidShare: 2}, nil)
	for _, want := range []string{"QueueURL is empty", "Messages -1", "BatchSize 11", "Rate -1", "InvalidShare 2"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v; want it to say %q", err, want)
		}
	}
}

func TestDepthCorrectsForEmulators(t *testing.T) {
	f := &fakeAPI{attrs: func(in *awssqs.GetQueueAttributesInput) (*awssqs.GetQueueAttributesOutput, error) {
		return &awssqs.GetQueueAttributesOutput{Attributes: map[string]string{
			"ApproximateNumberOfMessages": "50", "ApproximateNumberOfMessagesNotVisible": "20",
		}}, nil
	}}
	for _, tc := range []struct {
		emulator          string
		visible, inFlight int64
	}{{"", 50, 20}, {EmulatorGoaws, 30, 20}} {
		c, _ := testClient(f, Env{Emulator: tc.emulator})
		v, n, err := c.Depth(context.Background(), "q")
		if err != nil || v != tc.visible || n != tc.inFlight {
			t.Errorf("emulator %q: Depth = %d, %d, %v; want %d, %d", tc.emulator, v, n, err, tc.visible, tc.inFlight)
		}
	}
	if _, _, err := depthFromAttributes(map[string]string{"ApproximateNumberOfMessages": "x"}, false); err == nil {
		t.Error("bad attribute accepted")
	}
}

// An arrival profile's messages go in batches of messages due close
// together, each batch when its last message is due: at 5/s one message a
// batch, at 200/s up to BatchSize within the window, a pause none.
func TestDueBatches(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	due := ms(0, 200, 400, 1000, 1005, 1010, 1015, 1020, 1025, 1099, 1100, 5000)
	bs, at := dueBatches(due, 4, 100*time.Millisecond)
	wantB := [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 7}, {7, 11}, {11, 12}}
	wantAt := ms(0, 200, 400, 1015, 1100, 5000)
	if fmt.Sprint(bs) != fmt.Sprint(wantB) || fmt.Sprint(at) != fmt.Sprint(wantAt) {
		t.Errorf("batches %v at %v\nwant %v at %v", bs, at, wantB, wantAt)
	}
	if bs, _ := dueBatches(nil, 10, time.Second); bs != nil {
		t.Errorf("no messages: batches %v", bs)
	}
}

// Send with Due sends every message (none dropped, each accounted), waits
// for each batch's due time and says when each was accepted.
func TestSendFollowsDueTimes(t *testing.T) {
	q := &acceptingQueue{bodies: map[string]string{}}
	c, slept := testClient(&fakeAPI{send: q.send}, Env{})
	due := []time.Duration{0, time.Second, time.Second + 10*time.Millisecond, 3 * time.Second}
	res, err := c.Send(context.Background(), SendOptions{QueueURL: "q", Due: due, BatchSize: 10, InvalidShare: 0.25}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, q.bodies, 4, 1)
	if len(res.SentAt) != 4 || fmt.Sprint(q.sizes) != "[1 2 1]" {
		t.Errorf("sentAt %v, batch sizes %v; want 4 times and batches [1 2 1]", res.SentAt, q.sizes)
	}
	// The fake sleeps do not pass time: each asks for about the due time.
	want := []time.Duration{0, time.Second + 10*time.Millisecond, 3 * time.Second}
	if len(*slept) != len(want) {
		t.Fatalf("slept %v, want about %v", *slept, want)
	}
	for i, d := range *slept {
		if d > want[i] || d < want[i]-100*time.Millisecond {
			t.Errorf("sleep %d = %v, want about %v", i, d, want[i])
		}
	}
	if _, err := c.Send(context.Background(), SendOptions{QueueURL: "q", Due: due, Messages: 4}, nil); err == nil || !strings.Contains(err.Error(), "Due replaces Messages and Rate") {
		t.Errorf("Due with Messages: err %v", err)
	}
	if _, err := c.Send(context.Background(), SendOptions{QueueURL: "q", Due: []time.Duration{time.Second, 0}}, nil); err == nil || !strings.Contains(err.Error(), "must ascend") {
		t.Errorf("descending Due: err %v", err)
	}
}
