package dataplane

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// instance is one emulated app instance: a model plus the bookkeeping a
// container runtime would do — in-flight requests, draining on termination,
// killing at the end of the grace period.
type instance struct {
	ns, name  string
	uid       types.UID
	ip        string
	modelName string
	model     Model
	clock     Clock
	log       *slog.Logger

	// killCtx ends when the instance is killed (grace period over, plane
	// stopped) or removed; requests and background work stop with it.
	killCtx context.Context
	kill    context.CancelFunc

	mu       sync.Mutex
	inflight int
	draining bool
	stopped  bool // model.Stop returned
	deadline Timer
	removed  bool
	done     chan struct{}
	// onRemoved runs once, without locks held, when the instance is gone.
	onRemoved func(*instance)
}

func newInstance(parent context.Context, spec ModelSpec, uid types.UID, modelName string, m Model, onRemoved func(*instance)) *instance {
	ctx, cancel := context.WithCancel(parent)
	return &instance{
		ns: spec.Namespace, name: spec.Name, uid: uid, ip: spec.PodIP, modelName: modelName,
		model: m, clock: spec.Clock, log: spec.Logger,
		killCtx: ctx, kill: cancel,
		done: make(chan struct{}), onRemoved: onRemoved,
	}
}

// errDraining: the instance takes no new requests.
var errDraining = errors.New("instance is draining")

// Serve hands one request to the model. It returns errDraining, having
// written nothing, when the instance no longer takes requests; the caller
// may pick another endpoint.
func (i *instance) Serve(w http.ResponseWriter, r *http.Request) error {
	i.mu.Lock()
	if i.draining {
		i.mu.Unlock()
		return errDraining
	}
	i.inflight++
	i.mu.Unlock()
	defer i.release()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(i.killCtx, cancel)
	defer stop()
	tw := &trackingWriter{ResponseWriter: w}
	i.model.ServeHTTP(tw, r.WithContext(ctx))
	if !tw.wrote && i.killCtx.Err() != nil && r.Context().Err() == nil {
		// The container died under the request: the proxy in front answers.
		http.Error(w, "emulated instance was killed", http.StatusBadGateway)
	}
	return nil
}

func (i *instance) release() {
	i.mu.Lock()
	i.inflight--
	fin := i.finishableLocked()
	i.mu.Unlock()
	if fin {
		i.finish()
	}
}

// Inflight is the number of requests being served.
func (i *instance) Inflight() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.inflight
}

// Draining reports whether the instance has stopped taking requests.
func (i *instance) Draining() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.draining
}

// Done is closed when the instance has been removed.
func (i *instance) Done() <-chan struct{} { return i.done }

// drain stops taking new requests, stops the model's background work and
// lets in-flight requests finish; the instance is removed when both are
// done. With hasGrace, the instance is killed once grace has passed (the
// first grace given counts, like a container's SIGTERM→SIGKILL window).
func (i *instance) drain(grace time.Duration, hasGrace bool) {
	i.mu.Lock()
	if i.removed {
		i.mu.Unlock()
		return
	}
	if hasGrace && i.deadline == nil {
		i.deadline = i.clock.AfterFunc(grace, func() {
			i.log.Info("grace period over, killing instance", "grace", grace, "inflight", i.Inflight())
			i.kill()
		})
	}
	if i.draining {
		i.mu.Unlock()
		return
	}
	i.draining = true
	i.mu.Unlock()
	i.log.Debug("draining instance", "ip", i.ip)
	go func() {
		if err := i.model.Stop(i.killCtx); err != nil && i.killCtx.Err() == nil {
			i.log.Warn("stopping model", "model", i.modelName, "err", err)
		}
		i.mu.Lock()
		i.stopped = true
		fin := i.finishableLocked()
		i.mu.Unlock()
		if fin {
			i.finish()
		}
	}()
}

// killNow kills the instance at once (plane stopping).
func (i *instance) killNow() {
	i.drain(0, false)
	i.kill()
}

func (i *instance) finishableLocked() bool {
	return i.draining && i.stopped && i.inflight == 0 && !i.removed
}

func (i *instance) finish() {
	i.mu.Lock()
	if i.removed {
		i.mu.Unlock()
		return
	}
	i.removed = true
	if i.deadline != nil {
		i.deadline.Stop()
	}
	i.mu.Unlock()
	i.kill()
	close(i.done)
	i.log.Debug("instance removed", "ip", i.ip)
	if i.onRemoved != nil {
		i.onRemoved(i)
	}
}

// trackingWriter notes whether the model wrote a response.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
