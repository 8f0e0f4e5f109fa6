// Command bench runs scalebench scenarios: autoscaling Spin apps on
// Kubernetes under load, with reaction timelines checked against budgets and
// written as JSON, JUnit, Markdown and HTML reports.
//
// Exit codes: 0 every expectation met, 1 an expectation violated, 2 usage
// error, 3 harness error, 130 interrupted (SIGINT or SIGTERM; a second
// signal exits at once).
package main

import (
	"context"
	"os"

	"github.com/scalebench/scalebench/cmd/bench/app"
)

func main() {
	ctx, stop := app.WithSignals(context.Background(), os.Stderr, os.Exit)
	code := app.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
