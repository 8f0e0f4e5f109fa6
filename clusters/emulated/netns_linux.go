//go:build linux

package emulated

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/scalebench/scalebench/kube"
)

// Keeping a process that listens on all interfaces (goaws: "0.0.0.0:<port>",
// whatever its Host setting) off the machine's network: it runs in a network
// namespace of its own (`unshare --net`), where "all interfaces" is just
// that namespace's loopback, and the harness reaches it through a loopback
// forwarder whose dials are made from a thread that joined the namespace.
// That needs CAP_SYS_ADMIN (root) for both the unshare and the setns.

// netnsIsolation reports whether processes can be isolated this way, and if
// not, why: the unshare binary path or a reason.
func netnsIsolation() (unsharePath string, why error) {
	path, err := exec.LookPath("unshare")
	if err != nil {
		return "", fmt.Errorf("no unshare binary (util-linux): %w", err)
	}
	ok, err := hasCapSysAdmin()
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errors.New("the harness lacks CAP_SYS_ADMIN (run as root) to create and enter a network namespace")
	}
	return path, nil
}

// hasCapSysAdmin reads the effective capability set of this process.
func hasCapSysAdmin() (bool, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return false, fmt.Errorf("capabilities: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		hex, ok := strings.CutPrefix(sc.Text(), "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			return false, fmt.Errorf("capabilities: CapEff %q: %w", hex, err)
		}
		return caps&(1<<unix.CAP_SYS_ADMIN) != 0, nil
	}
	return false, errors.New("capabilities: no CapEff line in /proc/self/status")
}

// netnsInode identifies the network namespace of a process.
func netnsInode(pid string) (uint64, error) {
	st, err := os.Stat("/proc/" + pid + "/ns/net")
	if err != nil {
		return 0, err
	}
	return inode(st)
}

func inode(st os.FileInfo) (uint64, error) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, errors.New("no inode")
	}
	return sys.Ino, nil
}

// fdInode is the inode of an open file.
func fdInode(f *os.File) (uint64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return inode(st)
}

// hostNetns is the network namespace the harness started in, read before
// any thread could have left it: later, /proc/self/ns/net may name another
// one (a thread that joined a namespace and could not return is parked
// there, and if it is the main thread, /proc/self is that thread).
var hostNetns, hostNetnsErr = netnsInode("self")

// waitOwnNetns waits until process pid runs binary (unshare has exec'd it,
// so unshare(2) is done) in a network namespace other than the harness's,
// or alive reports the process gone.
func waitOwnNetns(ctx context.Context, pid int, binary string, alive func() bool) error {
	if hostNetnsErr != nil {
		return fmt.Errorf("network namespace of the harness: %w", hostNetnsErr)
	}
	want, err := filepath.EvalSymlinks(binary)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", binary, err)
	}
	return kube.Poll(ctx, 10*time.Millisecond, fmt.Sprintf("process %d running %s in its own network namespace", pid, filepath.Base(binary)), func(context.Context) (bool, string, error) {
		if !alive() {
			return false, "", fmt.Errorf("process %d exited", pid)
		}
		exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		if err != nil {
			return false, err.Error(), nil
		}
		ino, err := netnsInode(strconv.Itoa(pid))
		if err != nil {
			return false, err.Error(), nil
		}
		state := fmt.Sprintf("runs %s in netns %d (harness %d)", exe, ino, hostNetns)
		return exe == want && ino != hostNetns, state, nil
	})
}

// nsDialer dials TCP from inside the network namespace of a process: one
// goroutine, locked to an OS thread that joined the namespace, makes the
// sockets (a socket belongs to the namespace of the thread that creates it).
// On Close the thread goes back to the harness's namespace before it is
// unlocked, so no other goroutine ever runs in the foreign namespace.
type nsDialer struct {
	pid  int
	reqs chan nsDialReq
	quit chan struct{}
	done chan struct{}
}

type nsDialReq struct {
	addr string
	res  chan nsDialRes
}

type nsDialRes struct {
	conn net.Conn
	err  error
}

// newNSDialer joins the network namespace of pid and brings its loopback
// interface up (a new namespace starts with lo down).
func newNSDialer(pid int) (*nsDialer, error) {
	d := &nsDialer{pid: pid, reqs: make(chan nsDialReq), quit: make(chan struct{}), done: make(chan struct{})}
	ready := make(chan error, 1)
	go d.run(ready)
	if err := <-ready; err != nil {
		<-d.done
		return nil, err
	}
	return d, nil
}

func (d *nsDialer) run(ready chan<- error) {
	defer close(d.done)
	runtime.LockOSThread()
	// The thread returns to the harness's namespace before it is unlocked;
	// if it cannot, it stays locked and the runtime retires it with the
	// goroutine.
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		ready <- fmt.Errorf("network namespace of this thread: %w", err)
		return
	}
	defer home.Close()
	defer func() {
		if unix.Setns(int(home.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
	}()
	target := "/proc/" + strconv.Itoa(d.pid) + "/ns/net"
	f, err := os.Open(target)
	if err != nil {
		ready <- fmt.Errorf("network namespace of process %d: %w", d.pid, err)
		return
	}
	want, werr := fdInode(f)
	err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
	f.Close()
	if err != nil {
		ready <- fmt.Errorf("enter the network namespace of process %d: %w", d.pid, err)
		return
	}
	// Make sure this thread is where it should be before dialing from it.
	got, gerr := netnsInode("thread-self")
	if werr != nil || gerr != nil || got != want || got == hostNetns {
		ready <- fmt.Errorf("enter the network namespace of process %d: thread is in netns %d, want %d, not the harness's %d (%v, %v)", d.pid, got, want, hostNetns, werr, gerr)
		return
	}
	if err := loopbackUp(); err != nil {
		ready <- fmt.Errorf("network namespace of process %d: bring lo up: %w", d.pid, err)
		return
	}
	ready <- nil
	dialer := net.Dialer{Timeout: 3 * time.Second}
	for {
		select {
		case r := <-d.reqs:
			c, err := dialer.Dial("tcp", r.addr)
			r.res <- nsDialRes{c, err}
		case <-d.quit:
			return
		}
	}
}

// loopbackUp sets IFF_UP on lo in the calling thread's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	if ifr.Uint16()&unix.IFF_UP != 0 {
		return nil
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// Dial connects to addr inside the namespace.
func (d *nsDialer) Dial(ctx context.Context, addr string) (net.Conn, error) {
	r := nsDialReq{addr: addr, res: make(chan nsDialRes, 1)}
	select {
	case d.reqs <- r:
	case <-d.done:
		return nil, errors.New("namespace dialer closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res := <-r.res
	return res.conn, res.err
}

// Close ends the dialer's thread (and with it its hold on the namespace).
func (d *nsDialer) Close() {
	select {
	case <-d.quit:
	default:
		close(d.quit)
	}
	<-d.done
}
