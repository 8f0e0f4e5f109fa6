package load

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/scalebench/scalebench/proc"
)

var (
	benchDuration = flag.Duration("load.bench-duration", 3*time.Second, "duration of each attack in BenchmarkGeneratorVsBombardier")
	benchRounds   = flag.Int("load.bench-rounds", 3, "alternating rounds (generator, bombardier) in BenchmarkGeneratorVsBombardier")
)

// helperEnv carries the options of a generator run in a child process.
const helperEnv = "SCALEBENCH_LOAD_HELPER_OPTIONS"

// TestGeneratorHelperProcess is not a test: BenchmarkGeneratorVsBombardier
// re-runs the test binary with it to run the generator in its own process.
func TestGeneratorHelperProcess(t *testing.T) {
	raw := os.Getenv(helperEnv)
	if raw == "" {
		t.Skip("helper process for BenchmarkGeneratorVsBombardier")
	}
	var opts Options
	if err := json.Unmarshal([]byte(raw), &opts); err != nil {
		t.Fatal(err)
	}
	s, err := NewHTTP().Run(context.Background(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	json.NewEncoder(os.Stdout).Encode(s)
}

// subprocess runs the built-in generator in a child process, as bombardier
// runs, so that neither side shares a Go runtime with the server.
type subprocess struct{}

func (subprocess) Run(ctx context.Context, opts Options, _ func(Result)) (Summary, error) {
	raw, err := json.Marshal(opts)
	if err != nil {
		return Summary{}, err
	}
	os.Setenv(helperEnv, string(raw))
	defer os.Unsetenv(helperEnv)
	out, err := proc.Run(ctx, proc.Cmd{
		Argv:   []string{os.Args[0], "-test.run=^TestGeneratorHelperProcess$", "-test.count=1"},
		Env:    os.Environ(),
		Stdout: true, Interrupt: true, Grace: time.Second,
	})
	if err != nil {
		return Summary{}, err
	}
	var s Summary
	if i := bytes.IndexByte(out, '{'); i >= 0 {
		err = json.NewDecoder(bytes.NewReader(out[i:])).Decode(&s)
	}
	return s, err
}

// BenchmarkGeneratorVsBombardier runs the built-in generator and bombardier
// alternately against one loopback server with the same parameters (40
// connections, 5s timeout, as in the SpinKube docs) and reports:
//
//   - gen/bombardier: the generator's requests/s as a ratio of bombardier's,
//     the median of the per-round ratios (goal: >= 1);
//   - gen-req/s, bombardier-req/s: the mean requests/s of each;
//   - gen-cpu-µs/req, bombardier-cpu-µs/req: CPU time of server plus load
//     generator per request (where rusage is available), which depends much
//     less than requests/s on what else the machine is running;
//   - subproc-gen/bombardier, subproc-gen-req/s, subproc-gen-cpu-µs/req: the
//     same for the generator run in a child process.
//
// The server runs in the test process. The generator runs in it too, as the
// harness runs it, so it shares a Go runtime and GC with the server, while
// bombardier is a separate process, which also gets a bigger share of a
// machine busy with other work. The subprocess variant puts both generators
// on an equal footing. Run it with
//
//	go test -run '^$' -bench GeneratorVsBombardier -benchtime 1x ./load/
//
// The first run builds bombardier from the go.mod tool directive (about a
// minute), then reuses it from the tool cache.
func BenchmarkGeneratorVsBombardier(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	ctx := context.Background()
	bombardier := NewBombardier()
	if _, err := bombardier.Binary(ctx); err != nil {
		b.Fatalf("bombardier: %v", err)
	}
	opts := Options{URL: srv.URL, Connections: 40, Duration: *benchDuration, Timeout: 5 * time.Second}
	gen := NewHTTP()

	measure := func(g Generator) (rps, cpuPerReq float64) {
		before := cpuTime()
		s, err := g.Run(ctx, opts, nil)
		if err != nil {
			b.Fatalf("%T: %v", g, err)
		}
		if s.Errors > 0 {
			b.Errorf("%T: errors %v", g, s.ErrorsByKind)
		}
		if cpu := cpuTime() - before; cpu > 0 && s.Requests > 0 {
			cpuPerReq = float64(cpu.Microseconds()) / float64(s.Requests)
		}
		return s.RPS, cpuPerReq
	}

	type tally struct {
		ratios        []float64
		rps, cpuPerRq float64
	}
	var inproc, subproc, bomb tally
	add := func(t *tally, rps, cpu, ref float64) {
		t.ratios = append(t.ratios, rps/ref)
		t.rps += rps
		t.cpuPerRq += cpu
	}
	for range b.N {
		for round := range *benchRounds {
			g, gc := measure(gen)
			t, tc := measure(bombardier)
			sg, sc := measure(subprocess{})
			b.Logf("round %d: generator %.0f req/s, %.1f µs CPU/req; in a subprocess %.0f req/s, %.1f µs CPU/req; bombardier %.0f req/s, %.1f µs CPU/req",
				round, g, gc, sg, sc, t, tc)
			add(&inproc, g, gc, t)
			add(&subproc, sg, sc, t)
			add(&bomb, t, tc, t)
		}
	}
	n := float64(len(bomb.ratios))
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(median(inproc.ratios), "gen/bombardier")
	b.ReportMetric(median(subproc.ratios), "subproc-gen/bombardier")
	b.ReportMetric(inproc.rps/n, "gen-req/s")
	b.ReportMetric(subproc.rps/n, "subproc-gen-req/s")
	b.ReportMetric(bomb.rps/n, "bombardier-req/s")
	if inproc.cpuPerRq > 0 && subproc.cpuPerRq > 0 && bomb.cpuPerRq > 0 {
		b.ReportMetric(inproc.cpuPerRq/n, "gen-cpu-µs/req")
		b.ReportMetric(subproc.cpuPerRq/n, "subproc-gen-cpu-µs/req")
		b.ReportMetric(bomb.cpuPerRq/n, "bombardier-cpu-µs/req")
	}
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + m) / 2
	}
	return m
}
