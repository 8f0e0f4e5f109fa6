package emulated

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"sigs.k8s.io/yaml"

	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/proc"
	"github.com/scalebench/scalebench/sqs"
)

func TestGoawsAndRedisSpecs(t *testing.T) {
	plain := goawsSpec("", "/bin/goaws", "/w/goaws.yaml", "/w/home")
	if plain.Name != ComponentGoaws || plain.Path != "/bin/goaws" || strings.Join(plain.Args, " ") != "-config /w/goaws.yaml Local" {
		t.Errorf("plain goaws spec %+v", plain)
	}
	iso := goawsSpec("/usr/bin/unshare", "/bin/goaws", "/w/goaws.yaml", "/w/home")
	if iso.Path != "/usr/bin/unshare" || strings.Join(iso.Args, " ") != "--net -- /bin/goaws -config /w/goaws.yaml Local" {
		t.Errorf("isolated goaws spec %+v", iso)
	}
	r := redisSpec("/usr/bin/redis-server", 6400, "/w/sqs/redis", "/w/home")
	want := []string{"--port", "6400", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", "/w/sqs/redis", "--daemonize", "no", "--protected-mode", "yes"}
	if r.Name != ComponentRedis || !slices.Equal(r.Args, want) {
		t.Errorf("redis args %q, want %q", r.Args, want)
	}
	for _, s := range []proc.Spec{plain, iso, r} {
		if len(s.Env) != 1 || !strings.HasPrefix(s.Env[0], "HOME=") {
			t.Errorf("%s env %q: want only HOME (nothing inherited)", s.Name, s.Env)
		}
	}
}

func TestWriteGoawsConfig(t *testing.T) {
	path, err := writeGoawsConfig(t.TempDir(), 41234)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]struct {
		Host, Port, Region, AccountId string
		QueueAttributeDefaults        struct{ VisibilityTimeout int }
		Queues                        []any
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	l := cfg["Local"]
	if l.Port != "41234" || l.Region != SQSRegion || l.AccountId != SQSAccountID || l.QueueAttributeDefaults.VisibilityTimeout != 30 || len(l.Queues) != 0 {
		t.Errorf("config %+v from\n%s", l, data)
	}
}

// echoServer answers every connection with what it reads, upper-cased,
// then closes its side when the client closed its own.
func echoServer(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				data, _ := io.ReadAll(c)
				c.Write([]byte(strings.ToUpper(string(data))))
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln
}

func TestTCPForwarder(t *testing.T) {
	backend := echoServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var d net.Dialer
	f := newTCPForwarder(ln, func(ctx context.Context) (net.Conn, error) {
		return d.DialContext(ctx, "tcp", backend.Addr().String())
	}, slog.New(slog.DiscardHandler))
	for range 3 {
		c, err := net.Dial("tcp", f.Addr())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("hello"))
		c.(*net.TCPConn).CloseWrite() // half-close travels through
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(got) != "HELLO" {
			t.Fatalf("through the forwarder: %q, %v", got, err)
		}
	}
	// An open connection is cut by Close.
	c, err := net.Dial("tcp", f.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("x"))
	time.Sleep(50 * time.Millisecond)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("read after Close: %v (want EOF)", err)
	}
	if _, err := net.Dial("tcp", f.Addr()); err == nil {
		t.Error("forwarder still accepts after Close")
	}
}

func requireNetnsIsolation(t *testing.T) string {
	t.Helper()
	path, why := netnsIsolation()
	if why != nil {
		t.Skipf("no network namespace isolation here: %v", why)
	}
	return path
}

// listenInNetns listens on 127.0.0.1:0 inside pid's network namespace from a
// thread that joins it (and dies with its goroutine).
func listenInNetns(t *testing.T, pid int) net.Listener {
	t.Helper()
	type res struct {
		ln  net.Listener
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer home.Close()
		defer func() { // back home before unlocking, or stay locked (retired)
			if unix.Setns(int(home.Fd()), unix.CLONE_NEWNET) == nil {
				runtime.UnlockOSThread()
			}
		}()
		f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/net")
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- res{err: err}
			return
		}
		if err := loopbackUp(); err != nil {
			ch <- res{err: err}
			return
		}
		ln, err := net.Listen("tcp", "0.0.0.0:0")
		ch <- res{ln, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.ln
}

// A process in its own network namespace that listens on "all interfaces"
// is reachable through the namespace dialer and not from the harness's
// namespace — not even on loopback.
func TestNSDialerReachesOnlyIntoTheNamespace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process in a network namespace")
	}
	unshare := requireNetnsIsolation(t)
	cmd := exec.Command(unshare, "--net", "--", "sleep", "60") // unshare execs sleep from PATH
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sleepPath, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip(err)
	}
	if err := waitOwnNetns(ctx, cmd.Process.Pid, sleepPath, func() bool { return cmd.ProcessState == nil }); err != nil {
		t.Fatal(err)
	}
	ln := listenInNetns(t, cmd.Process.Pid)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			bufio.NewWriter(c)
			c.Write([]byte("inside\n"))
			c.Close()
		}
	}()

	d, err := newNSDialer(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.Dial(ctx, loopback(port))
	if err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if line != "inside\n" {
		t.Errorf("read %q through the namespace dialer", line)
	}
	if c, err := net.DialTimeout("tcp", loopback(port), time.Second); err == nil {
		// The port may be taken by something else in the harness's namespace.
		c.Close()
		t.Logf("port %d answers in the harness's namespace too (another listener?)", port)
	}
	d.Close()
	if _, err := d.Dial(ctx, loopback(port)); err == nil {
		t.Error("dial after Close")
	}
}

func requireSQSComponents(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skipf("redis-server not installed (%s)", RedisInstallHint)
	}
	for _, st := range (&components.Builder{}).Status() {
		if st.Binary == components.GoawsBinary && !st.Cached {
			t.Skipf("goaws %s not cached (go run ./cmd/bench components builds it in seconds)", st.Version)
		}
	}
}

// sqsOnlyCluster is a Cluster with just a supervisor: enough for SQSEnv.
func sqsOnlyCluster(t *testing.T) *Cluster {
	t.Helper()
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sup, err := proc.New(proc.Options{LogDir: filepath.Join(dir, "logs"), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{
		name: "sqs-only", workDir: dir, home: filepath.Join(dir, "home"), logger: logger, progress: testWriter{t},
		versions: resolvedVersions(components.Versions{}), sup: sup, specs: map[string]specEntry{},
	}
	os.MkdirAll(c.home, 0o755)
	t.Cleanup(func() {
		c.closeSQSForwarder()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := sup.StopAll(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return c
}

// nonLoopbackIPv4 is an address of this machine that is not loopback.
func nonLoopbackIPv4() (net.IP, bool) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP, true
		}
	}
	return nil, false
}

// TestSQSSide starts goaws and Redis under a supervisor, without a control
// plane, and checks what SQSEnv promises.
func TestSQSSide(t *testing.T) {
	if testing.Short() {
		t.Skip("starts goaws and redis-server")
	}
	requireSQSComponents(t)
	c := sqsOnlyCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	env, err := c.SQSEnv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MEASURED SQS side ready in %s: %+v", time.Since(start).Round(time.Millisecond), env)
	again, err := c.SQSEnv(ctx)
	if err != nil || again != env {
		t.Fatalf("second SQSEnv = %+v, %v", again, err)
	}
	if !strings.HasPrefix(env.Endpoint, "http://127.0.0.1:") || env.ClusterEndpoint != env.Endpoint || !strings.HasPrefix(env.RedisAddr, "127.0.0.1:") || env.Emulator != sqs.EmulatorGoaws {
		t.Errorf("env %+v", env)
	}
	if comps := c.Components(); !slices.Contains(comps, ComponentGoaws) || !slices.Contains(comps, ComponentRedis) {
		t.Errorf("components %v", comps)
	}

	client, err := sqs.NewClient(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip := func(name string) {
		t.Helper()
		url, err := client.CreateQueue(ctx, name, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.Send(ctx, sqs.SendOptions{QueueURL: url, Messages: 25, BatchSize: 10, InvalidShare: 0.2}, nil)
		if err != nil || res.Sent != 25 || res.Invalid != 5 {
			t.Fatalf("send: %+v, %v", res, err)
		}
		v, f, err := client.Depth(ctx, url)
		if err != nil || v != 25 || f != 0 {
			t.Fatalf("depth %d/%d, %v", v, f, err)
		}
	}
	roundTrip("side-test")

	t.Run("goaws is isolated", func(t *testing.T) {
		if _, why := netnsIsolation(); why != nil {
			t.Skipf("not isolated here: %v", why)
		}
		if !c.sqsSide.isolated {
			t.Fatal("isolation possible but goaws was not isolated")
		}
		port := env.Endpoint[strings.LastIndexByte(env.Endpoint, ':')+1:]
		ip, ok := nonLoopbackIPv4()
		if !ok {
			t.Skip("no non-loopback address to try")
		}
		if conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip.String(), port), time.Second); err == nil {
			conn.Close()
			t.Errorf("goaws's port %s answers on %s", port, ip)
		} else {
			t.Logf("%s:%s refused as it should: %v", ip, port, err)
		}
	})

	t.Run("restarted goaws is reached in its new namespace", func(t *testing.T) {
		if err := c.RestartComponent(ctx, ComponentGoaws); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			ok, state, _ := httpOK(ctx, env.Endpoint+"/health")
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("goaws not answering after restart: %s", state)
			}
			time.Sleep(100 * time.Millisecond)
		}
		roundTrip("after-restart") // goaws keeps queues in memory: a fresh one
	})

	t.Run("redis stops and restarts", func(t *testing.T) {
		if err := c.StopComponent(ctx, ComponentRedis); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := redisPing(ctx, env.RedisAddr); ok {
			t.Fatal("redis answers after StopComponent")
		}
		if err := c.RestartComponent(ctx, ComponentRedis); err != nil {
			t.Fatal(err)
		}
		if err := kube.Poll(ctx, 50*time.Millisecond, "redis back", func(ctx context.Context) (bool, string, error) { return redisPing(ctx, env.RedisAddr) }); err != nil {
			t.Fatal(err)
		}
	})

	if err := c.CheckComponents(); err != nil {
		t.Errorf("components: %v", err)
	}
	c.closeSQSForwarder()
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(env.Endpoint, "http://"), time.Second); err == nil && c.sqsSide.isolated {
		t.Error("forwarder still accepts after teardown")
	}
}

func TestSQSEnvNamesTheRedisInstallStep(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := sqsOnlyCluster(t)
	c.sqsSide = sqsSide{}
	t.Setenv("PATH", t.TempDir()) // no redis-server (and nothing else) in PATH
	_, err := c.SQSEnv(context.Background())
	if err == nil || !strings.Contains(err.Error(), "apt-get install redis-server") {
		t.Fatalf("err = %v", err)
	}
	var execErr *exec.Error
	if !errors.As(err, &execErr) {
		t.Errorf("err %v does not wrap the lookup error", err)
	}
}
