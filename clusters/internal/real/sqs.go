package real

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/sqsbackend"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/platform"
	"github.com/scalebench/scalebench/proc"
	"github.com/scalebench/scalebench/sqs"
)

// EnvSQSQueueURL names a real AWS SQS queue for keda-sqs instead of the platform's LocalStack
// (https://sqs.<region>.amazonaws.com/<account>/<queue>; credentials from the AWS_* environment, see
// sqsbackend.AWS).
const EnvSQSQueueURL = "SCALEBENCH_SQS_QUEUE_URL"

// ForwardTimeout bounds finding a Ready pod of a Service and opening a port-forward to it.
const ForwardTimeout = time.Minute

var _ clusters.SQSProvider = (*Cluster)(nil)

// SQSEnv is keda-sqs's queue and store on a real cluster: the platform's Valkey and LocalStack releases
// (namespace scalebench-sqs), or a real AWS queue when SCALEBENCH_SQS_QUEUE_URL is set. Pods and KEDA reach
// them through their Services; the harness (sending, counting the queue, reading the store for "none lost")
// through port-forwards the API server opens to their pods (client-go portforward, the pods/portforward
// subresource), on loopback ports closed by Delete.
func (c *Cluster) SQSEnv(ctx context.Context) (sqs.Env, error) {
	if c.sqsEnv != nil {
		return *c.sqsEnv, nil
	}
	need := []string{platform.Valkey}
	queueURL := os.Getenv(EnvSQSQueueURL)
	if queueURL == "" {
		need = append(need, platform.LocalStack)
	}
	for _, n := range need {
		if !c.hasPart(n) {
			return sqs.Env{}, fmt.Errorf("%s cluster: keda-sqs needs %s, which the platform did not install or find (a run with a keda-sqs scenario plans Valkey and LocalStack; on an existing cluster pass --install-platform)", c.Kind, n)
		}
	}
	var b *sqsbackend.Backend
	if queueURL != "" {
		var err error
		if b, err = sqsbackend.AWS(queueURL, nil); err != nil {
			return sqs.Env{}, err
		}
	}
	store, err := c.Forward(ctx, platform.SQSNamespace, platform.ValkeyRelease, platform.ValkeyPort)
	if err != nil {
		return sqs.Env{}, fmt.Errorf("keda-sqs store: %w", err)
	}
	if b == nil {
		local, err := c.Forward(ctx, platform.SQSNamespace, platform.LocalStackRelease, platform.LocalStackPort)
		if err != nil {
			return sqs.Env{}, fmt.Errorf("keda-sqs queue: %w", err)
		}
		b = sqsbackend.InCluster("http://"+local, platform.LocalStackClusterEndpoint)
	}
	env := b.Env(store, platform.ValkeyClusterAddr)
	c.sqsEnv = &env
	return env, nil
}

func (c *Cluster) hasPart(name string) bool {
	for _, p := range c.Parts {
		if p.Name == name && p.Present {
			return true
		}
	}
	return false
}

// Forward opens a port-forward from a loopback port on this machine to port of a Ready pod behind the
// Service namespace/service, through the API server, and returns the local host:port. It lasts until Delete
// (also with --keep: it is this process's, not the cluster's).
func (c *Cluster) Forward(ctx context.Context, namespace, service string, port int) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, ForwardTimeout)
	defer cancel()
	pod, err := c.readyPod(ctx, namespace, service)
	if err != nil {
		return "", err
	}
	req := c.Clients.Kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("portforward")
	transport, upgrader, err := spdy.RoundTripperFor(c.Config)
	if err != nil {
		return "", fmt.Errorf("port-forward to %s/%s: %w", namespace, pod, err)
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, req.URL())
	stop, ready := make(chan struct{}), make(chan struct{})
	var errOut proc.LockedBuffer
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(port)}, stop, ready, io.Discard, &errOut)
	if err != nil {
		return "", fmt.Errorf("port-forward to %s/%s: %w", namespace, pod, err)
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-done:
		return "", fmt.Errorf("port-forward to pod %s/%s port %d: %w %s", namespace, pod, port, err, strings.TrimSpace(errOut.String()))
	case <-ctx.Done():
		close(stop)
		<-done
		return "", fmt.Errorf("port-forward to pod %s/%s port %d: not ready: %w", namespace, pod, port, context.Cause(ctx))
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		close(stop)
		<-done
		return "", fmt.Errorf("port-forward to pod %s/%s port %d: no local port: %v", namespace, pod, port, err)
	}
	c.closers = append(c.closers, func() { close(stop); <-done })
	return fmt.Sprintf("127.0.0.1:%d", ports[0].Local), nil
}

// readyPod is a Ready pod the Service selects, waited for within ctx; the error names the pods' states.
func (c *Cluster) readyPod(ctx context.Context, namespace, service string) (string, error) {
	svc, err := c.Clients.Kube.CoreV1().Services(namespace).Get(ctx, service, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("Service %s/%s: %w", namespace, service, err)
	}
	if len(svc.Spec.Selector) == 0 {
		return "", fmt.Errorf("Service %s/%s selects no pods", namespace, service)
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector).String()
	var name string
	err = pollPods(ctx, c, namespace, sel, "a Ready pod of Service "+namespace+"/"+service, func(p corev1.Pod) bool {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && podReady(p) {
			name = p.Name
			return true
		}
		return false
	})
	return name, err
}

func pollPods(ctx context.Context, c *Cluster, namespace, selector, what string, ok func(corev1.Pod) bool) error {
	return kube.Poll(ctx, time.Second, what, func(ctx context.Context) (bool, string, error) {
		pods, err := c.Clients.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err.Error(), nil
		}
		var states []string
		for _, p := range pods.Items {
			if ok(p) {
				return true, "", nil
			}
			states = append(states, p.Name+"="+string(p.Status.Phase))
		}
		if len(states) == 0 {
			return false, "no pods match " + selector, nil
		}
		return false, strings.Join(states, ", "), nil
	})
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// closeForwards ends the port-forwards this process opened.
func (c *Cluster) closeForwards() {
	for _, f := range c.closers {
		f()
	}
	c.closers = nil
	c.sqsEnv = nil
}
