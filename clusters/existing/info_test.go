package existing

import (
	"context"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/sqs"
)

func TestInfoRoundTrip(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	if _, ok, err := ReadInfo(ctx, cs); ok || err != nil {
		t.Fatalf("no ConfigMap: ok %v err %v", ok, err)
	}
	in := Info{Provider: "emulated", RunID: "run-1", IngressURL: "http://127.0.0.1:4000",
		Environment: results.Environment{Provider: "emulated", Emulated: []string{"nodes"}, Knobs: map[string]string{"hpa.syncPeriod": "15s"}},
		SQS:         &sqs.Env{Endpoint: "http://127.0.0.1:1", ClusterEndpoint: "http://127.0.0.1:1", Region: "us-east-1", RedisAddr: "127.0.0.1:2", ClusterRedisAddr: "127.0.0.1:2", Emulator: sqs.EmulatorGoaws}}
	// Twice: a second cluster up on the same API server replaces it.
	for i := 0; i < 2; i++ {
		if err := Publish(ctx, cs, in); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := ReadInfo(ctx, cs)
	if !ok || err != nil || !reflect.DeepEqual(got, in) {
		t.Fatalf("read back ok %v err %v:\n got %+v\nwant %+v", ok, err, got, in)
	}
	cm, _ := cs.CoreV1().ConfigMaps(InfoNamespace).Get(ctx, InfoName, metav1.GetOptions{})
	if cm.Labels[kube.LabelRunID] != "run-1" {
		t.Errorf("labels %v", cm.Labels)
	}
}
