// Command circuit-breaker is Circuit Breaker's one binary: the server
// (serve, the default), offline projection replay, an event tail, workflow
// apply and version. Run "circuit-breaker help" for usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}
