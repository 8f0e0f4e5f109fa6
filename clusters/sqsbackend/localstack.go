package sqsbackend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/localstack"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/platform"
)

// LocalStack defaults. LocalStack accepts any credentials; test/test and
// account 000000000000 are its conventions.
const (
	// DefaultLocalStackImage is the last LocalStack release that starts
	// without an auth token (later images need LocalStackOptions.AuthToken).
	DefaultLocalStackImage = platform.LocalStackImage
	// DefaultLocalStackAlias is the container's name on the cluster network.
	DefaultLocalStackAlias    = "localstack"
	LocalStackPort            = 4566
	LocalStackAccount         = "000000000000"
	LocalStackRegion          = "us-east-1"
	LocalStackAccessKeyID     = "test"
	LocalStackSecretAccessKey = "test"
	// localStackStartup bounds the image pull-free start (the parent
	// context bounds everything).
	localStackStartup = 2 * time.Minute
)

// ErrNoDocker is returned (wrapped) by [LocalStack] when no Docker daemon
// answers.
var ErrNoDocker = errors.New("no Docker daemon answers")

// LocalStackOptions configure [LocalStack].
type LocalStackOptions struct {
	// Network is the Docker network the cluster's nodes are on (k3d:
	// "k3d-<cluster>", kind: "kind"). Required: pods reach LocalStack by its
	// alias on this network, through k3d's DNS fix (K3D_FIX_DNS, on by
	// default) or kind's node DNS setup.
	Network string
	// Alias is the container's DNS name on Network; default "localstack".
	// One LocalStack per alias per network.
	Alias string
	// Image; default DefaultLocalStackImage.
	Image string
	// RunID labels the container (scalebench.dev/run-id) for cleanup.
	RunID string
	// AuthToken is passed as LOCALSTACK_AUTH_TOKEN, needed by images newer
	// than DefaultLocalStackImage.
	AuthToken string
	// Logger receives testcontainers' progress at debug level; nil discards.
	Logger *slog.Logger
}

func (o LocalStackOptions) withDefaults() (LocalStackOptions, error) {
	if o.Network == "" {
		return o, errors.New("sqsbackend: localstack: the cluster's Docker network is required (k3d: k3d-<cluster>, kind: kind)")
	}
	if o.Network == "bridge" {
		return o, errors.New(`sqsbackend: localstack: network "bridge" has no DNS aliases; use the cluster's network`)
	}
	if o.Alias == "" {
		o.Alias = DefaultLocalStackAlias
	}
	if o.Image == "" {
		o.Image = DefaultLocalStackImage
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// env is the container's environment: only SQS, loaded before the
// container reports ready, queue URLs of the form
// http://<alias>:4566/<account>/<name> (what pods and KEDA can resolve).
func (o LocalStackOptions) env() map[string]string {
	env := map[string]string{
		"SERVICES":              "sqs",
		"EAGER_SERVICE_LOADING": "1",
		"SQS_ENDPOINT_STRATEGY": "off",
		"LOCALSTACK_HOST":       o.Alias + ":" + strconv.Itoa(LocalStackPort),
	}
	if o.AuthToken != "" {
		env["LOCALSTACK_AUTH_TOKEN"] = o.AuthToken
	}
	return env
}

// customizers are the request options on top of the localstack module's.
func (o LocalStackOptions) customizers() []testcontainers.ContainerCustomizer {
	labels := map[string]string{kube.LabelManagedBy: kube.ManagedBy}
	if o.RunID != "" {
		labels[kube.LabelRunID] = o.RunID
	}
	return []testcontainers.ContainerCustomizer{
		testcontainers.WithLogger(slogPrinter{o.Logger}),
		testcontainers.WithEnv(o.env()),
		testcontainers.WithLabels(labels),
		network.WithNetworkName([]string{o.Alias}, o.Network),
		// The module mounts the Docker socket for LocalStack's Lambda and
		// ECS emulation; SQS does not need it.
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) { hc.Binds = nil }),
		testcontainers.WithAdditionalWaitStrategy(wait.ForLog("Ready.").WithStartupTimeout(localStackStartup)),
	}
}

// LocalStack starts LocalStack (SQS only) on the cluster's Docker network
// under opts.Alias, so pods and KEDA reach it as http://localstack:4566 and
// the harness on the mapped host port. It returns once SQS answers.
// Credentials are test/test, the region us-east-1; the scenario creates
// its queue (see [Backend.QueueURL] for its URL).
//
// Close terminates the container. testcontainers' reaper (Ryuk) also
// removes it when the process exits; set TESTCONTAINERS_RYUK_DISABLED=true
// to keep it for debugging.
func LocalStack(ctx context.Context, opts LocalStackOptions) (*Backend, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := DockerAvailable(ctx); err != nil {
		return nil, fmt.Errorf("sqsbackend: localstack: %w", err)
	}
	ctr, err := runLocalStack(ctx, o)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqsbackend: start %s on network %q: %w", o.Image, o.Network, err), terminate(context.WithoutCancel(ctx), ctr))
	}
	host, err := ctr.PortEndpoint(ctx, strconv.Itoa(LocalStackPort)+"/tcp", "http")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqsbackend: localstack mapped port: %w", err), terminate(context.WithoutCancel(ctx), ctr))
	}
	o.Logger.Info("localstack ready", "image", o.Image, "network", o.Network, "alias", o.Alias, "host", host, "container", ctr.GetContainerID())
	return &Backend{
		Kind:            KindLocalStack,
		Region:          LocalStackRegion,
		HostEndpoint:    host,
		ClusterEndpoint: "http://" + o.Alias + ":" + strconv.Itoa(LocalStackPort),
		Credentials:     &Credentials{AccessKeyID: LocalStackAccessKeyID, SecretAccessKey: LocalStackSecretAccessKey},
		stop:            func(ctx context.Context) error { return terminate(ctx, ctr) },
	}, nil
}

// runLocalStack runs the module, turning testcontainers' panics (it panics
// when it cannot find a Docker host) into errors.
func runLocalStack(ctx context.Context, o LocalStackOptions) (ctr *localstack.LocalStackContainer, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrNoDocker, r)
		}
	}()
	return localstack.Run(ctx, o.Image, o.customizers()...)
}

func terminate(ctx context.Context, ctr *localstack.LocalStackContainer) error {
	if ctr == nil {
		return nil
	}
	if err := testcontainers.TerminateContainer(ctr, testcontainers.StopContext(ctx)); err != nil {
		return fmt.Errorf("sqsbackend: terminate localstack %s: %w", ctr.GetContainerID(), err)
	}
	return nil
}

// DockerAvailable reports whether a Docker daemon answers, as testcontainers
// finds it (DOCKER_HOST, ~/.testcontainers.properties, the default socket).
// The error wraps ErrNoDocker.
func DockerAvailable(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrNoDocker, r)
		}
	}()
	p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(slogPrinter{slog.New(slog.DiscardHandler)}))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	if err := p.Health(ctx); err != nil { // Health closes the provider
		return fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	return nil
}

// slogPrinter adapts a slog.Logger to testcontainers' Printf logger.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.l.Debug(fmt.Sprintf(format, v...), "component", "testcontainers")
}
