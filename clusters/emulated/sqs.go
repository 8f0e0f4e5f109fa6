package emulated

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/clusters/emulated/dataplane"
	"github.com/scalebench/scalebench/proc"
	"github.com/scalebench/scalebench/sqs"
)

// Component names of the SQS side's supervised processes (StopComponent,
// RestartComponent): the SQS emulator and Redis.
const (
	ComponentGoaws = "goaws"
	ComponentRedis = "redis"
)

// The SQS emulator's identity. goaws checks no credentials; these are what
// the harness, KEDA's TriggerAuthentication and the app pods present.
const (
	SQSRegion          = "us-east-1"
	SQSAccountID       = "100010001000"
	SQSAccessKeyID     = "scalebench"
	SQSSecretAccessKey = "scalebench-emulated"
)

// RedisInstallHint is the step that installs the redis-server SQSEnv runs.
const RedisInstallHint = "apt-get install redis-server"

// sqsSide is the SQS emulator and Redis, started by the first SQSEnv.
type sqsSide struct {
	mu  sync.Mutex
	env *sqs.Env

	// goawsAddr is where goaws listens in its own network namespace
	// (isolated) or on every interface of the machine (not isolated).
	goawsAddr   string
	goawsBinary string
	isolated    bool
	fwd         *tcpForwarder // isolated only

	dialMu sync.Mutex
	dialer *nsDialer // joined goaws's namespace; renewed when goaws restarts
}

// SQSEnv starts, on its first call, the SQS side of the cluster and returns
// where it is:
//   - goaws (the cached component binary) as the SQS endpoint, region
//     SQSRegion, account SQSAccountID, JSON protocol. goaws listens on all
//     interfaces whatever its Host setting; when the harness may (root, with
//     util-linux's unshare) it runs in a network namespace of its own and is
//     reached through a forwarder on a free loopback port, so nothing outside
//     the machine can reach it. Otherwise it listens on all interfaces, and
//     SQSEnv logs a warning saying so. The forwarder lives in the harness: a
//     cluster kept with Options.Keep loses its SQS endpoint when the harness
//     exits.
//   - redis-server from PATH on a free loopback port, without persistence
//     (--save "" --appendonly no): a restart (RestartComponent) empties it.
//
// Both are supervised (ComponentGoaws, ComponentRedis: StopComponent,
// RestartComponent, logs in the diagnostics) and stopped by Delete. Endpoint
// and ClusterEndpoint are the same loopback URL: KEDA runs on this machine and
// the app pods are in-process models.
func (c *Cluster) SQSEnv(ctx context.Context) (sqs.Env, error) {
	s := &c.sqsSide
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env != nil {
		return *s.env, nil
	}
	if c.sup == nil {
		return sqs.Env{}, errors.New("emulated: SQS side: the cluster is not running")
	}
	t0 := time.Now()
	env, err := c.startSQS(ctx)
	if err != nil {
		c.stopSQS(context.WithoutCancel(ctx))
		return sqs.Env{}, fmt.Errorf("emulated: SQS side: %w", err)
	}
	s.env = &env
	where := "in its own network namespace, reached through a loopback forwarder"
	if !s.isolated {
		where = "on all interfaces (" + s.goawsAddr + ")"
	}
	c.progressf("SQS side ready in %s: goaws %s at %s %s; Redis at %s", roundDur(time.Since(t0)), c.versions.Goaws, env.Endpoint, where, env.RedisAddr)
	return env, nil
}

func (c *Cluster) startSQS(ctx context.Context) (sqs.Env, error) {
	redisServer, err := exec.LookPath("redis-server")
	if err != nil {
		return sqs.Env{}, fmt.Errorf("redis-server not found in PATH (install it: %s): %w", RedisInstallHint, err)
	}
	b := c.builder
	if b == nil {
		b = &components.Builder{Versions: c.versions, Logger: c.logger, Progress: c.progress}
	}
	bins, err := b.Ensure(ctx, components.GoawsBinary)
	if err != nil {
		return sqs.Env{}, fmt.Errorf("goaws binary: %w", err)
	}
	dir := filepath.Join(c.workDir, "sqs")
	if err := os.MkdirAll(filepath.Join(dir, "redis"), 0o755); err != nil {
		return sqs.Env{}, fmt.Errorf("work dir: %w", err)
	}

	endpoint, err := c.startGoaws(ctx, bins[components.GoawsBinary], dir)
	if err != nil {
		return sqs.Env{}, err
	}
	redisPort, err := freePort("redis")
	if err != nil {
		return sqs.Env{}, err
	}
	redisAddr := loopback(redisPort)
	if err := c.startComponent(redisSpec(redisServer, redisPort, filepath.Join(dir, "redis"), c.home)); err != nil {
		return sqs.Env{}, err
	}

	env := sqs.Env{
		Endpoint:         endpoint,
		Region:           SQSRegion,
		AccessKeyID:      SQSAccessKeyID,
		SecretAccessKey:  SQSSecretAccessKey,
		ClusterEndpoint:  endpoint,
		RedisAddr:        redisAddr,
		ClusterRedisAddr: redisAddr,
		Emulator:         sqs.EmulatorGoaws,
	}
	err = parallel(
		func() error {
			return c.pollComponents(ctx, "goaws answering", func(ctx context.Context) (bool, string, error) {
				return httpOK(ctx, endpoint+"/health")
			})
		},
		func() error {
			return c.pollComponents(ctx, "redis answering PING", func(ctx context.Context) (bool, string, error) {
				return redisPing(ctx, redisAddr)
			})
		},
	)
	if err != nil {
		return sqs.Env{}, err
	}
	// The SDK speaks the JSON protocol: check a queue round trip with it.
	if err := checkSQSEndpoint(ctx, env); err != nil {
		return sqs.Env{}, fmt.Errorf("goaws at %s: %w", endpoint, err)
	}
	return env, nil
}

// startGoaws starts goaws isolated in a network namespace when it can, on
// all interfaces otherwise, and returns the endpoint URL.
func (c *Cluster) startGoaws(ctx context.Context, binary, dir string) (string, error) {
	s := &c.sqsSide
	unshare, why := netnsIsolation()
	if why == nil {
		endpoint, err := c.startGoawsIsolated(ctx, unshare, binary, dir)
		if err == nil {
			return endpoint, nil
		}
		why = err
		c.stopGoaws(context.WithoutCancel(ctx))
	}
	c.logger.Warn("goaws listens on all interfaces: it cannot bind loopback only, and cannot be isolated in a network namespace", "reason", why)
	port, err := freePort("goaws")
	if err != nil {
		return "", err
	}
	cfg, err := writeGoawsConfig(dir, port)
	if err != nil {
		return "", err
	}
	if err := c.startComponent(goawsSpec("", binary, cfg, c.home)); err != nil {
		return "", err
	}
	s.goawsAddr = "0.0.0.0:" + strconv.Itoa(port)
	return "http://" + loopback(port), nil
}

func (c *Cluster) startGoawsIsolated(ctx context.Context, unshare, binary, dir string) (string, error) {
	s := &c.sqsSide
	// The forwarder's port is goaws's port too (in its namespace), so the
	// queue URLs goaws reports name the port that reaches it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("goaws forwarder: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	cfg, err := writeGoawsConfig(dir, port)
	if err != nil {
		ln.Close()
		return "", err
	}
	if err := c.startComponent(goawsSpec(unshare, binary, cfg, c.home)); err != nil {
		ln.Close()
		return "", err
	}
	s.goawsAddr = loopback(port)
	s.goawsBinary = binary
	s.isolated = true
	s.fwd = newTCPForwarder(ln, c.dialGoaws, c.logger.With("component", "goaws-forwarder"))
	// Join the namespace now, so a failure shows here rather than per dial.
	if _, err := c.goawsDialer(ctx); err != nil {
		return "", err
	}
	return "http://" + loopback(port), nil
}

// goawsDialer returns a dialer inside the network namespace of the running
// goaws, renewing it when goaws was restarted.
func (c *Cluster) goawsDialer(ctx context.Context) (*nsDialer, error) {
	s := &c.sqsSide
	p, ok := c.sup.Process(ComponentGoaws)
	if !ok {
		return nil, errors.New("goaws is not running")
	}
	s.dialMu.Lock()
	defer s.dialMu.Unlock()
	if s.dialer != nil && s.dialer.pid == p.Pid() {
		return s.dialer, nil
	}
	if s.dialer != nil {
		s.dialer.Close()
		s.dialer = nil
	}
	alive := func() bool {
		select {
		case <-p.Done():
			return false
		default:
			return true
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := waitOwnNetns(wctx, p.Pid(), s.goawsBinary, alive); err != nil {
		return nil, fmt.Errorf("goaws network namespace: %w", err)
	}
	d, err := newNSDialer(p.Pid())
	if err != nil {
		return nil, fmt.Errorf("goaws network namespace: %w", err)
	}
	s.dialer = d
	return d, nil
}

// dialGoaws connects to goaws inside its namespace (the forwarder's dial).
func (c *Cluster) dialGoaws(ctx context.Context) (net.Conn, error) {
	d, err := c.goawsDialer(ctx)
	if err != nil {
		return nil, err
	}
	return d.Dial(ctx, c.sqsSide.goawsAddr)
}

// stopGoaws stops goaws and its forwarder (a failed isolated start).
func (c *Cluster) stopGoaws(ctx context.Context) {
	s := &c.sqsSide
	if s.fwd != nil {
		s.fwd.Close()
		s.fwd = nil
	}
	s.dialMu.Lock()
	if s.dialer != nil {
		s.dialer.Close()
		s.dialer = nil
	}
	s.dialMu.Unlock()
	s.isolated = false
	if _, ok := c.sup.Process(ComponentGoaws); ok {
		_ = c.sup.Stop(ctx, ComponentGoaws)
	}
	c.specMu.Lock()
	delete(c.specs, ComponentGoaws)
	c.specMu.Unlock()
}

// stopSQS stops the SQS side (teardown, failed start). Safe to call when it
// never started.
func (c *Cluster) stopSQS(ctx context.Context) {
	if c.sup == nil {
		return
	}
	c.stopGoaws(ctx)
	if _, ok := c.sup.Process(ComponentRedis); ok {
		_ = c.sup.Stop(ctx, ComponentRedis)
	}
	c.specMu.Lock()
	delete(c.specs, ComponentRedis)
	c.specMu.Unlock()
}

// closeSQSForwarder ends the in-process part of the SQS side (teardown; the
// supervisor stops the processes).
func (c *Cluster) closeSQSForwarder() {
	s := &c.sqsSide
	if s.fwd != nil {
		s.fwd.Close()
	}
	s.dialMu.Lock()
	if s.dialer != nil {
		s.dialer.Close()
		s.dialer = nil
	}
	s.dialMu.Unlock()
}

// writeGoawsConfig writes goaws's configuration (environment "Local").
func writeGoawsConfig(dir string, port int) (string, error) {
	path := filepath.Join(dir, "goaws.yaml")
	data := fmt.Sprintf(`# goaws configuration written by scalebench
Local:
  Host: localhost
  Port: "%d"
  Region: %s
  AccountId: "%s"
  LogToFile: false
  EnableDuplicates: false
  QueueAttributeDefaults:
    VisibilityTimeout: 30
    ReceiveMessageWaitTimeSeconds: 0
    MaximumMessageSize: 262144
  Queues: []
  Topics: []
`, port, SQSRegion, SQSAccountID)
	if err := writeFile(path, []byte(data), 0o644); err != nil {
		return "", fmt.Errorf("goaws config: %w", err)
	}
	return path, nil
}

// goawsSpec runs goaws with config; with unshare set, in a new network
// namespace (unshare execs goaws: same pid, the supervisor's signals reach it).
func goawsSpec(unshare, binary, config, home string) proc.Spec {
	args := []string{"-config", config, "Local"}
	s := proc.Spec{Name: ComponentGoaws, Path: binary, Args: args, Env: []string{"HOME=" + home}, StopTimeout: 5 * time.Second}
	if unshare != "" {
		s.Path = unshare
		s.Args = append([]string{"--net", "--", binary}, args...)
	}
	return s
}

// redisSpec runs redis-server on a loopback port without persistence.
func redisSpec(binary string, port int, dir, home string) proc.Spec {
	return proc.Spec{
		Name: ComponentRedis,
		Path: binary,
		Args: []string{
			"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1",
			"--save", "",
			"--appendonly", "no",
			"--dir", dir,
			"--daemonize", "no",
			"--protected-mode", "yes",
		},
		Env:         []string{"HOME=" + home},
		StopTimeout: 5 * time.Second,
	}
}

// redisPing sends PING and expects +PONG.
func redisPing(ctx context.Context, addr string) (bool, string, error) {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return false, err.Error(), nil
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false, err.Error(), nil
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return false, err.Error(), nil
	}
	line = strings.TrimSpace(line)
	return line == "+PONG", "PING: " + line, nil
}

// checkSQSEndpoint creates a probe queue and reads its depth through the SDK.
func checkSQSEndpoint(ctx context.Context, env sqs.Env) error {
	client, err := sqs.NewClient(ctx, env, sqs.WithHTTPClient(&http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}))
	if err != nil {
		return err
	}
	url, err := client.CreateQueue(ctx, "scalebench-probe", 30*time.Second)
	if err != nil {
		return err
	}
	if _, _, err := client.Depth(ctx, url); err != nil {
		return err
	}
	return nil
}

// dataPlaneModels are the data plane's extra models: the sqs-transformer
// (which reads its pod's env and Secrets through the cluster's client), then
// the provider's DataPlaneModels, which win.
func (c *Cluster) dataPlaneModels() map[string]dataplane.NewModelFunc {
	cost := c.cost
	if cost.PerRequest <= 0 {
		cost = AssumedCPUCost
	}
	m := map[string]dataplane.NewModelFunc{
		dataplane.ModelSQSTransformer: dataplane.NewSQSTransformerFunc(c.clientset),
		dataplane.ModelCPULoadGen:     dataplane.NewCPULoadGenFunc(cost.PerRequest),
	}
	maps.Copy(m, c.models)
	return m
}
