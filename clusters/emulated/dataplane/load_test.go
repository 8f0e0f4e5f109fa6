package dataplane

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
)

func processCPU(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// manyInstances sets up n cpu-load-gen pods behind one Service and Ingress.
func manyInstances(t testing.TB, f *ingressFixture, n int, cpuPerRequest string) {
	f.rt.setIngress(ingress("default", "spinapp-ingress", rule{path: "/", pathType: networkingv1.PathTypePrefix, svc: "app", port: 80}))
	f.rt.setService(service("default", "app"))
	var eps []ep
	for i := range n {
		ip := fmt.Sprintf("10.244.%d.%d", i/250, i%250+2)
		eps = append(eps, ep{ip: ip})
		f.in.podChanged(pod("default", fmt.Sprintf("app-%d", i), ip, ModelCPULoadGen, "500m", AnnotationCPUPerRequest, cpuPerRequest))
	}
	f.rt.setSlice(slice("default", "app-1", "app", "", 80, eps...))
}

func fixtureFor(tb testing.TB) *ingressFixture {
	t, ok := tb.(*testing.T)
	if !ok {
		// Benchmarks: same fixture, cleanup through tb.
		ctx, cancel := context.WithCancel(context.Background())
		tb.Cleanup(cancel)
		f := &ingressFixture{rt: newRoutes()}
		f.in = newInstances(ctx, RealClock{}, testLogger(tb), DefaultModels(), time.Second)
		f.d = newDispatcher(f.rt, f.in, testLogger(tb))
		return f
	}
	return newIngressFixture(t)
}

// TestManyInstancesCostLittleCPU holds 200 instances with 4 long requests
// each in flight (800 HTTP connections through the ingress, the docs' fib(43)
// at 500m: none finishes for minutes) and checks the process stays nearly
// idle: virtual time costs timers, not CPU. Then it measures the real CPU
// per request of short requests through the ingress.
func TestManyInstancesCostLittleCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("measures CPU over seconds")
	}
	f := newIngressFixture(t)
	const n, perInstance = 200, 4
	manyInstances(t, f, n, DefaultFib43CPU.String())

	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n * perInstance}
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for range n * perInstance {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.url+"/", nil)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	eventually(t, "all requests in flight", func() bool {
		total := 0
		for _, in := range f.in.all() {
			total += in.Inflight()
		}
		return total == n*perInstance
	})
	time.Sleep(200 * time.Millisecond)
	c0, w0 := processCPU(t), time.Now()
	time.Sleep(2 * time.Second)
	cores := float64(processCPU(t)-c0) / float64(time.Since(w0))
	t.Logf("%d instances, %d requests in flight: %.4f cores of real CPU", n, n*perInstance, cores)
	if cores > 0.05 {
		t.Errorf("holding %d emulated requests used %.3f cores, want < 0.05", n*perInstance, cores)
	}
	var used time.Duration
	for _, in := range f.in.all() {
		used += in.model.CPUUsed()
	}
	t.Logf("emulated CPU used meanwhile: %.0f CPU-seconds (200 × 0.5 cores)", used.Seconds())
	cancel()
	wg.Wait()
	tr.CloseIdleConnections()
	eventually(t, "abandoned requests released", func() bool {
		for _, in := range f.in.all() {
			if in.Inflight() != 0 || load(in) != 0 {
				return false
			}
		}
		return true
	})

	// Throughput: 40 clients (the docs' bombardier -c 40), 5ms of CPU per request.
	g := newIngressFixture(t)
	manyInstances(t, g, n, "5ms")
	var done atomic.Int64
	stop := time.Now().Add(2 * time.Second)
	c0, w0 = processCPU(t), time.Now()
	tr2 := &http.Transport{MaxIdleConnsPerHost: 40}
	defer tr2.CloseIdleConnections()
	client2 := &http.Client{Transport: tr2}
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				resp, err := client2.Get(g.url + "/")
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	cpu, wall := processCPU(t)-c0, time.Since(w0)
	rps := float64(done.Load()) / wall.Seconds()
	t.Logf("40 clients over %d instances: %.0f req/s, %.2f cores (client included), %.0fµs real CPU per request",
		n, rps, float64(cpu)/float64(wall), float64(cpu.Microseconds())/float64(done.Load()))
}

// BenchmarkIngressDispatch measures the real CPU of one request through the
// routing table and an emulated instance, without the network.
func BenchmarkIngressDispatch(b *testing.B) {
	f := fixtureFor(b)
	manyInstances(b, f, 200, "0s")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, "http://localhost:8081/", nil)
			w := discardWriter{h: http.Header{}}
			f.d.ServeHTTP(w, req)
		}
	})
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}
