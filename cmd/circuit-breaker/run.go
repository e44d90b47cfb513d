package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "dev"
)

const usage = `circuit-breaker — event-sourced AI workflow engine

Usage:
  circuit-breaker [command] [flags]

Commands:
  serve     run the server (default when no command is given)
  replay    rebuild the projections from the event log (offline)
  events    events tail: print the event log, optionally following it
  apply     create or update a workflow and agents from a JSON or YAML file
  keys      create, list and revoke API keys (admin)
  sim       run the LLM provider simulator (tests, benchmarks, demos)
  demo      run an example of examples/ end to end against the simulator
  version   print the version and commit
  help      show this help

Run "circuit-breaker <command> -h" for a command's flags.
`

// exitError carries a process exit code; its message (if any) is printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErr is a command-line mistake: exit code 2.
func usageErr(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// exitCode prints err (if it has something to say) and returns the
// process's exit code: 0 on success or -h, 2 for usage and configuration
// errors, 1 otherwise.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	fmt.Fprintln(stderr, "circuit-breaker:", err)
	return code
}

// run dispatches to a subcommand.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "" || args[0][0] != '-') {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stdout, stderr)
	case "replay":
		return replay(ctx, args, stdout, stderr)
	case "events":
		return eventsCmd(ctx, args, stdout, stderr)
	case "apply":
		return apply(ctx, args, stdout, stderr)
	case "keys":
		return keysCmd(ctx, args, stdout, stderr)
	case "sim":
		return runSim(ctx, args, stdout, stderr)
	case "demo":
		return demo(ctx, args, stdout, stderr)
	case "version":
		if len(args) > 0 {
			return usageErr("version takes no arguments")
		}
		fmt.Fprintf(stdout, "circuit-breaker %s (commit %s)\n", version, commit)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageErr("unknown command %q", cmd)
}

// newFlags returns a flag set that prints help built from synopsis,
// a description and the flags' defaults, and reports errors instead of
// exiting.
func newFlags(name, synopsis, desc string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage:\n  circuit-breaker %s\n\n%s\nFlags:\n", synopsis, desc)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning a flag error into a usage error (exit 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: 2} // the flag package has printed the problem and usage
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageErr("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}
