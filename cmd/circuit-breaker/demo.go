package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/circuit-breaker/circuit-breaker/examples"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// demoStopTimeout bounds the server's graceful stop at the end of a demo.
const demoStopTimeout = 10 * time.Second

func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "demo [flags]",
		`Runs an example of examples/ end to end on this machine, with no network
and no keys: it starts the LLM provider simulator and the example tools in
process, starts "circuit-breaker serve" on a free loopback port with a
temporary data directory and its LLM deployments pointed at the simulator,
applies the example's agents and workflow, scripts the simulator's replies,
creates a resource and plays the example (answering human waits, firing
what a person would), printing every event of the resource and its agent
runs as it happens, then a summary of the runs and their cost, and stops
everything. --serve-tools only serves the example tools, for applying the
examples to a server of your own.
`, stderr)
	name := fs.String("example", examples.DefaultExample, "`name` of the example to run (see --list)")
	list := fs.Bool("list", false, "list the examples and exit")
	timeout := fs.Duration("timeout", 45*time.Second, "give up after this long")
	keep := fs.Bool("keep", false, "keep the temporary directory (data and server log)")
	serveTools := fs.String("serve-tools", "", "only serve the example tools on this `address` (e.g. 127.0.0.1:4011) until interrupted")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *list {
		for _, e := range examples.All() {
			fmt.Fprintf(stdout, "%-20s %s: %s\n", e.Name, e.Title, e.Shows)
		}
		return nil
	}
	if *serveTools != "" {
		return serveExampleTools(ctx, *serveTools, stdout)
	}
	ex, err := examples.Lookup(*name)
	if err != nil {
		return usageErr("--example: %v", err)
	}
	if *timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	ctx, cancel := context.WithTimeoutCause(ctx, *timeout, fmt.Errorf("the demo took longer than --timeout %s", *timeout))
	defer cancel()
	d := &demoRun{out: stdout, start: time.Now(), ex: ex}
	err = d.run(ctx, *keep)
	if err != nil {
		d.step("FAILED: %v", err)
		return &exitError{code: 1}
	}
	return nil
}

// demoRun is one run of the demo command.
type demoRun struct {
	out   io.Writer
	start time.Time
	ex    examples.Example
	dir   string
	log   string // the server's log file
}

// step prints a progress line.
func (d *demoRun) step(format string, args ...any) {
	fmt.Fprintf(d.out, "demo [%5.2fs] %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, args...))
}

func (d *demoRun) run(ctx context.Context, keep bool) (err error) {
	ex := d.ex
	d.step("example %s (examples/%s): %s", ex.Title, ex.File(), ex.Shows)
	d.dir, err = os.MkdirTemp("", "circuit-breaker-demo-")
	if err != nil {
		return err
	}
	defer func() {
		if keep {
			d.step("kept %s (data/ and server.log)", d.dir)
			return
		}
		_ = os.RemoveAll(d.dir)
	}()

	s := sim.New(sim.Config{})
	simURL, stopSim, err := listenLocal(s)
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	defer stopSim()
	d.step("provider simulator on %s (OpenAI and Anthropic wire formats, deterministic replies)", simURL)
	toolsURL, stopTools, err := listenLocal(examples.Tools())
	if err != nil {
		return fmt.Errorf("starting the example tools: %w", err)
	}
	defer stopTools()
	d.step("example tools on %s (%d HTTP tools with canned answers)", toolsURL, len(examples.ToolNames()))

	base, stopServer, err := d.startServer(ctx, simURL)
	if err != nil {
		return err
	}
	defer func() {
		d.step("stopping the server")
		if serr := stopServer(); serr != nil && err == nil {
			err = serr
		}
	}()
	d.step("server on %s (data in %s)", base, filepath.Join(d.dir, "data"))

	src, err := ex.Source()
	if err != nil {
		return err
	}
	d.step("circuit-breaker apply -f examples/%s", ex.File())
	lookup := func(k string) (string, bool) {
		if k == examples.ToolsURLVar {
			return toolsURL, true
		}
		return "", false
	}
	if err := applyFile(ctx, &clientFlags{}, base, "examples/"+ex.File(), src, lookup, indent{d.out, "    "}); err != nil {
		return err
	}
	sc := ex.Scenario
	sc.Script(s)
	d.step("scripted %d model replies into the simulator; creating resource %s", len(sc.Replies), sc.ResourceID)
	fmt.Fprintf(d.out, "\nevents of resource %s and of its agent runs, as they happen (seconds since its creation):\n", sc.ResourceID)
	tl := newTimeline(d.out, sc)
	res, err := examples.Play(ctx, examples.Client{Base: base}, ex.WorkflowID, sc, tl.print)
	if err != nil {
		if log := tail(d.log, 15); log != "" {
			fmt.Fprintf(d.out, "last lines of the server log:\n%s", log)
		}
		return err
	}
	tl.summary(res)
	d.step("resource %s is %s", sc.ResourceID, res.State)
	return nil
}

// startServer runs "circuit-breaker serve" on a free loopback port with
// the demo's configuration and waits until it is ready. stop ends it
// gracefully.
func (d *demoRun) startServer(ctx context.Context, simURL string) (base string, stop func() error, err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, fmt.Errorf("finding this program: %w", err)
	}
	cfg := filepath.Join(d.dir, "circuit-breaker.toml")
	if err := os.WriteFile(cfg, []byte(examples.ServerConfig(simURL, "info")), 0o600); err != nil {
		return "", nil, err
	}
	d.log = filepath.Join(d.dir, "server.log")
	logf, err := os.Create(d.log)
	if err != nil {
		return "", nil, err
	}
	addrFile := filepath.Join(d.dir, "addr")
	cmd := exec.Command(exe, "serve", "--port", "0", "--config", cfg,
		"--data-dir", filepath.Join(d.dir, "data"), "--addr-file", addrFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = demoEnv()
	d.step("starting circuit-breaker serve (config %s, log %s)", cfg, d.log)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return "", nil, fmt.Errorf("starting the server: %w", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }() // ends with the process
	stop = func() error {
		defer logf.Close()
		select {
		case <-exited:
			return fmt.Errorf("the server exited early (%v):\n%s", waitErr, tail(d.log, 15))
		default:
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			_ = cmd.Process.Kill() // no SIGTERM on this platform
		}
		select {
		case <-exited:
			return nil
		case <-time.After(demoStopTimeout):
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("the server did not stop within %s; killed", demoStopTimeout)
		}
	}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(addrFile); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			base = "http://" + strings.TrimSpace(string(b))
			if ready(ctx, base) {
				return base, stop, nil
			}
		}
		select {
		case <-exited:
			return "", nil, fmt.Errorf("the server exited (%v):\n%s", waitErr, tail(d.log, 15))
		case <-ctx.Done():
			_ = stop()
			return "", nil, fmt.Errorf("the server was not ready: %w", context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// ready reports whether GET /ready answers 200.
func ready(ctx context.Context, base string) bool {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, "GET", base+"/ready", nil)
	if err != nil {
		return false
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// demoEnv is the server's environment: nothing that could hold a provider
// key or another configuration.
func demoEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TMP", "TEMP", "SYSTEMROOT", "USERPROFILE", "LOCALAPPDATA", "GOCOVERDIR", "GORACE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// listenLocal serves h on a free loopback port; stop closes the server
// and waits for it.
func listenLocal(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { _ = hs.Serve(ln); close(done) }() // ends on Close
	return "http://" + ln.Addr().String(), func() { _ = hs.Close(); <-done }, nil
}

// serveExampleTools serves the example tools on addr until ctx ends.
func serveExampleTools(ctx context.Context, addr string, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: examples.Tools(), ReadHeaderTimeout: 10 * time.Second}
	failed := make(chan error, 1)
	go func() { failed <- hs.Serve(ln) }() // ends on Shutdown
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "example tools on %s: POST %s/<tool> for %s\n", url, url, strings.Join(examples.ToolNames(), ", "))
	fmt.Fprintf(stdout, "apply the examples with %s=%s (the default when it listens on %s)\n",
		examples.ToolsURLVar, url, strings.TrimPrefix(examples.DefaultToolsURL, "http://"))
	select {
	case <-ctx.Done():
	case err := <-failed:
		return fmt.Errorf("serving the tools: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	if err := <-failed; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// tail returns the last n lines of file, indented.
func tail(file string, n int) string {
	b, err := os.ReadFile(file)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ") + "\n"
}

// indent writes through to w with prefix at the start of every line.
type indent struct {
	w      io.Writer
	prefix string
}

func (i indent) Write(p []byte) (int, error) {
	s := strings.ReplaceAll(strings.TrimRight(string(p), "\n"), "\n", "\n"+i.prefix)
	if _, err := io.WriteString(i.w, i.prefix+s+"\n"); err != nil {
		return 0, err
	}
	return len(p), nil
}
