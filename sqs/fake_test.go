package sqs

import (
	"context"
	"errors"
	"sync"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
)

// fakeAPI implements api with per-call hooks; unset hooks fail.
type fakeAPI struct {
	mu      sync.Mutex
	calls   []string
	send    func(*awssqs.SendMessageBatchInput) (*awssqs.SendMessageBatchOutput, error)
	receive func(*awssqs.ReceiveMessageInput) (*awssqs.ReceiveMessageOutput, error)
	del     func(*awssqs.DeleteMessageInput) (*awssqs.DeleteMessageOutput, error)
	attrs   func(*awssqs.GetQueueAttributesInput) (*awssqs.GetQueueAttributesOutput, error)
}

var errNotFaked = errors.New("not faked")

func (f *fakeAPI) record(name string) {
	f.mu.Lock()
	f.calls = append(f.calls, name)
	f.mu.Unlock()
}

func (f *fakeAPI) CreateQueue(context.Context, *awssqs.CreateQueueInput, ...func(*awssqs.Options)) (*awssqs.CreateQueueOutput, error) {
	f.record("CreateQueue")
	return nil, errNotFaked
}

func (f *fakeAPI) GetQueueAttributes(_ context.Context, in *awssqs.GetQueueAttributesInput, _ ...func(*awssqs.Options)) (*awssqs.GetQueueAttributesOutput, error) {
	f.record("GetQueueAttributes")
	if f.attrs == nil {
		return nil, errNotFaked
	}
	return f.attrs(in)
}

func (f *fakeAPI) SetQueueAttributes(context.Context, *awssqs.SetQueueAttributesInput, ...func(*awssqs.Options)) (*awssqs.SetQueueAttributesOutput, error) {
	f.record("SetQueueAttributes")
	return nil, errNotFaked
}

func (f *fakeAPI) PurgeQueue(context.Context, *awssqs.PurgeQueueInput, ...func(*awssqs.Options)) (*awssqs.PurgeQueueOutput, error) {
	f.record("PurgeQueue")
	return nil, errNotFaked
}

func (f *fakeAPI) SendMessageBatch(_ context.Context, in *awssqs.SendMessageBatchInput, _ ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	f.record("SendMessageBatch")
	if f.send == nil {
		return nil, errNotFaked
	}
	return f.send(in)
}

func (f *fakeAPI) ReceiveMessage(_ context.Context, in *awssqs.ReceiveMessageInput, _ ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error) {
	f.record("ReceiveMessage")
	if f.receive == nil {
		return nil, errNotFaked
	}
	return f.receive(in)
}

func (f *fakeAPI) DeleteMessage(_ context.Context, in *awssqs.DeleteMessageInput, _ ...func(*awssqs.Options)) (*awssqs.DeleteMessageOutput, error) {
	f.record("DeleteMessage")
	if f.del == nil {
		return nil, errNotFaked
	}
	return f.del(in)
}
