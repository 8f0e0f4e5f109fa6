// Package loadjob runs the HTTP load generator (package load) inside the
// cluster: a Kubernetes Job of Parallelism pods, each running `bench
// loadgen` with its share of the scenario's load (see Split), instead of in
// the bench process. It is for real clusters whose apps need more load than
// one machine can send, or whose ingress the load should not cross.
//
// The pieces, each usable on its own:
//
//   - Render builds the Job from a Spec; `bench plan` prints what it
//     returns and Generator applies the same object.
//   - Parse and Stream are `bench loadgen`: it waits for the start barrier (the
//     wall-clock time in --start-at, the same for every pod), runs its share
//     of the load with load.NewHTTP, and streams Lines, one JSON object a
//     line, on stdout: a start line, then once a second the requests
//     completed since the previous one, grouped by the second they started
//     in (each with its latencies), then a done line with the pod's totals.
//   - Merger folds the lines of every pod into one load.Summary with
//     per-second buckets, exactly as one generator would have produced
//     them: pods are aligned on the barrier, duplicated lines (a log stream
//     read again after a reconnect) count once, and a pod whose stream has a
//     gap or no done line, or whose streamed requests disagree with its
//     totals, is an error naming it.
//   - Generator implements load.Generator: it applies the Job, waits for
//     its pods to run (naming any that fails or has not started by the
//     barrier), reads each pod's log through the API server (pods/log,
//     follow), merges, and deletes the Job and its pods however it ends.
package loadjob
