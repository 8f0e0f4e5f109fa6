// Package load generates HTTP load as a library, for scenarios that would
// otherwise run `bombardier -c 40 -t 5s -d 3m http://localhost:8081`.
//
// A Generator runs one attack described by Options and streams a Result per
// request: its start as a monotonic offset from the attack's start (and the
// matching wall-clock time), latency, status, ErrorKind, body size and
// selected response headers. An Accumulator folds results into per-second
// buckets (Second) and a whole-run Summary; it is pure and knows no clock.
//
// Two generators implement the interface:
//
//   - NewHTTP, the built-in closed-loop generator: Connections workers, an
//     optional rate cap or a sequence of Steps (closed-loop, paced, ramped or
//     idle), a Host override, a per-request timeout, per-request results.
//   - NewBombardier, which runs the real bombardier (pinned as a Go tool in
//     go.mod) with the same parameters and parses its JSON summary. It is the
//     reference to compare with; it cannot give per-request results, so a run
//     through it has no per-second buckets.
//
// Pacers (ConstantPacer, RampPacer) are pure functions of elapsed time and
// hits so far, after vegeta's lib/pacer.go; the generator's step schedule
// gives each step its own pacer and hit count.
//
// Load must only target addresses the caller controls; the tests only ever
// use loopback servers.
package load
