// Package load generates HTTP load as a library, for scenarios that would
// otherwise run `bombardier -c 40 -t 5s -d 3m http://localhost:8081`.
//
// A Generator runs one attack described by Options and streams a Result per
// request: its start as a monotonic offset from the attack's start (and the
// matching wall-clock time), latency, status, ErrorKind, body size and
// selected response headers. An Accumulator folds results into per-second
// buckets (Second) and a whole-run Summary; it is pure and knows no clock.
// Both carry latency percentiles of every request (failures included, as
// bombardier's) and, apart, of the successful requests only, so a run whose
// requests time out cannot pass its timeouts off as the app's latency; a
// second without a success has no success percentiles (Successes is 0).
//
// Two modes send requests (Options.Mode):
//
//   - ClosedLoop, the default and bombardier's: Connections workers, each
//     with one request in flight, sending the next when the previous
//     response arrived (optionally capped at Rate). A slow target slows the
//     load down, and latency is measured from the actual send, so the time a
//     request would have waited is not counted (coordinated omission). With
//     a rate, requests a busy worker could not send are counted as missed.
//   - OpenLoop: requests arrive at Rate (or the Steps' rates) at their
//     scheduled times whatever the responses, each on an idle connection of
//     a pool capped at MaxInFlight (default: peak rate × Timeout + 1).
//     Latency and the timeout run from the scheduled send time, so it is
//     free of coordinated omission. A request due while MaxInFlight are in
//     flight, or that the generator could not send within OpenLoopMaxLag of
//     its time, is missed: counted (Summary.Missed, Second.Missed by its
//     scheduled second), never sent late.
//
// Options.Describe states the mode and its parameters in a sentence for
// reports.
//
// Two generators implement the interface:
//
//   - NewHTTP, the built-in generator: both modes, an optional rate or a
//     sequence of Steps (closed-loop, paced, ramped or idle), a Host
//     override, a per-request timeout, per-request results, and its own
//     complete per-second buckets in Summary.Seconds (whatever a slow result
//     callback dropped, counted in Summary.Dropped).
//   - NewBombardier, which runs the real bombardier (pinned as a Go tool in
//     go.mod) with the same parameters and parses its JSON summary. It is the
//     reference to compare with; it is closed-loop only (no OpenLoop, no
//     Steps: ErrUnsupported), and it cannot give per-request results, so a run
//     through it has no per-second buckets and no missed count.
//
// Pacers (ConstantPacer, RampPacer) are pure functions of elapsed time and
// hits so far, after vegeta's lib/pacer.go, and Schedules: they also give
// each hit's due time, which the open loop sends at and measures from. The
// generator's step schedule gives each step its own pacer and hit count; the
// open loop's scheduler is a pure walk over it, tested with a virtual clock.
//
// Load must only target addresses the caller controls; the tests only ever
// use loopback servers.
package load
