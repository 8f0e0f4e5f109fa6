// Package sqsbackend provides what the keda-sqs scenario needs outside the
// app itself on a real (k3d, kind, existing) cluster: the SQS queue's
// endpoints and credentials, and the keda-sqs wiring to them and to the
// store (the platform's Valkey, package platform) the app writes into.
//
// The queue is LocalStack in the cluster (the platform's localstack
// release, [InCluster]), LocalStack in a container on the cluster's Docker
// network ([LocalStack]), or a real AWS queue ([AWS]). Either way a [Backend]
// answers four questions: where the harness on the host sends SQS calls
// ([Backend.HostEndpoint]), where pods and KEDA send them
// ([Backend.ClusterEndpoint]), in which region, and with which credentials;
// [Backend.Wiring] turns that into the scenario's one SQS wiring
// (workloads.SQSWiring), and [Backend.Env] into the harness's sqs.Env.
//
// The emulated cluster needs none of this: its data plane emulates the app.
package sqsbackend

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/scalebench/scalebench/sqs"
	"github.com/scalebench/scalebench/workloads"
)

// Kind names where a backend's queue lives.
type Kind string

// Backend kinds.
const (
	KindLocalStack Kind = "localstack"
	KindAWS        Kind = "aws"
)

// Environment variable and Secret key names the AWS SDKs (the trigger-sqs
// plugin's Rust SDK among them) read.
const (
	EnvRegion          = "AWS_REGION"
	EnvDefaultRegion   = "AWS_DEFAULT_REGION"
	EnvAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken    = "AWS_SESSION_TOKEN"
	// EnvEndpointSQS overrides the SQS endpoint (service-specific endpoint
	// variable of the AWS SDKs); only set for LocalStack.
	EnvEndpointSQS = "AWS_ENDPOINT_URL_SQS"
)

// Credentials are static AWS credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken is set for temporary credentials.
	SessionToken string
}

// Backend is where the scenario's queue lives and how each party reaches it.
// Close releases what it started.
type Backend struct {
	// Kind is localstack or aws.
	Kind Kind
	// Region of the queue: KEDA's awsRegion and the app's AWS_REGION.
	Region string
	// HostEndpoint is the SQS endpoint for the harness on the host (the
	// LocalStack container's mapped port, e.g. http://localhost:32771).
	// Empty for AWS: the SDK's default endpoint for Region applies.
	HostEndpoint string
	// ClusterEndpoint is the SQS endpoint for pods and KEDA
	// (http://localstack:4566): KEDA's awsEndpoint and the app's
	// AWS_ENDPOINT_URL_SQS. Empty for AWS.
	ClusterEndpoint string
	// Credentials are the static credentials for all parties; nil when the
	// default credential chain applies (AWS without keys in the
	// environment): the harness's SDK then finds its own (profile, SSO,
	// instance role) and pods and KEDA need workload identity (IRSA or EKS
	// Pod Identity; KEDA podIdentity.provider aws).
	Credentials *Credentials

	// queueURL is the one queue an AWS backend serves.
	queueURL string
	// stop terminates what the backend started (nil when nothing).
	stop func(context.Context) error
}

// QueueURL is the URL of the queue named name, as every party names it
// (the app's spin.toml queue_url, KEDA's queueURL, the harness's QueueUrl).
//
// LocalStack: http://localstack:4566/000000000000/<name>, the URL its
// CreateQueue returns (SQS_ENDPOINT_STRATEGY off, LOCALSTACK_HOST at the
// network alias). The host cannot resolve localstack, but it need not:
// with HostEndpoint as the endpoint LocalStack finds the queue by the URL's
// path. AWS: the backend's queue URL; an error when name is not its queue.
func (b *Backend) QueueURL(name string) (string, error) {
	switch b.Kind {
	case KindLocalStack:
		if name == "" || strings.Contains(name, "/") {
			return "", fmt.Errorf("sqsbackend: queue name %q: must be a plain name", name)
		}
		return strings.TrimSuffix(b.ClusterEndpoint, "/") + "/" + LocalStackAccount + "/" + name, nil
	case KindAWS:
		if got := QueueName(b.queueURL); name != "" && name != got {
			return "", fmt.Errorf("sqsbackend: the AWS backend serves queue %q (%s), not %q", got, b.queueURL, name)
		}
		return b.queueURL, nil
	}
	return "", fmt.Errorf("sqsbackend: unknown backend kind %q", b.Kind)
}

// QueueName is the last path segment of a queue URL.
func QueueName(queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return ""
	}
	return path.Base(strings.TrimSuffix(u.Path, "/"))
}

// Close terminates what the backend started (the LocalStack container);
// nothing for AWS. Skip it to keep the container for debugging, and see
// [LocalStack] for the reaper that removes it when the process exits.
func (b *Backend) Close(ctx context.Context) error {
	if b == nil || b.stop == nil {
		return nil
	}
	err := b.stop(ctx)
	b.stop = nil
	return err
}

// Wiring is the keda-sqs wiring for the queue named queue on this backend
// and the store at redisAddr (host:port as pods reach it, e.g. platform.ValkeyClusterAddr):
// the cluster endpoint, region and credentials (the session token too) as
// the app and KEDA's scaler use them. The Secret, the app's environment and
// the TriggerAuthentication are rendered from it by package workloads, the
// same way on every cluster kind.
func (b *Backend) Wiring(queue, redisAddr string) (workloads.SQSWiring, error) {
	u, err := b.QueueURL(queue)
	if err != nil {
		return workloads.SQSWiring{}, err
	}
	w := workloads.SQSWiring{QueueURL: u, Endpoint: b.ClusterEndpoint, Region: b.Region, RedisAddr: redisAddr}
	if c := b.Credentials; c != nil {
		w.AccessKeyID, w.SecretAccessKey, w.SessionToken = c.AccessKeyID, c.SecretAccessKey, c.SessionToken
	}
	return w, nil
}

// InCluster describes LocalStack running in the cluster (the platform's
// localstack release): pods and KEDA reach it at clusterEndpoint (its
// Service), the harness at hostEndpoint (a port-forward to its pod).
// Credentials are LocalStack's test/test, the region us-east-1; Close
// releases nothing (the platform uninstalls the release).
func InCluster(hostEndpoint, clusterEndpoint string) *Backend {
	return &Backend{
		Kind: KindLocalStack, Region: LocalStackRegion, HostEndpoint: hostEndpoint, ClusterEndpoint: clusterEndpoint,
		Credentials: &Credentials{AccessKeyID: LocalStackAccessKeyID, SecretAccessKey: LocalStackSecretAccessKey},
	}
}

// Env is the backend as package sqs's client and the keda-sqs run take it:
// the harness's endpoint and store (hostRedis, host:port on this machine),
// and the pods' and KEDA's (the backend's cluster endpoint, clusterRedis).
func (b *Backend) Env(hostRedis, clusterRedis string) sqs.Env {
	env := sqs.Env{
		Endpoint: b.HostEndpoint, ClusterEndpoint: b.ClusterEndpoint, Region: b.Region,
		RedisAddr: hostRedis, ClusterRedisAddr: clusterRedis,
	}
	if c := b.Credentials; c != nil {
		env.AccessKeyID, env.SecretAccessKey, env.SessionToken = c.AccessKeyID, c.SecretAccessKey, c.SessionToken
	}
	return env
}
