package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/circuit-breaker/circuit-breaker/projections"
)

func replay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", "replay [flags]",
		`Rebuilds the projections (workflow and resource views, histories) from the
whole event log, from position 0, and saves them as the checkpoint the server
starts from. It works offline: stop the server first (the data directory is
locked while a server runs). Progress is drawn on stderr; the summary line
goes to stdout.
`, stderr)
	cf := addConfigFlags(fs)
	quiet := fs.Bool("quiet", false, "do not draw the progress bar")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load(fs, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	store, closeStore, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeStore()

	var bar *progressbar.ProgressBar
	progress := func(done, last uint64) {
		if *quiet {
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions64(int64(last),
				progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription("replaying"),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("events"),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }),
			)
		}
		_ = bar.Set64(int64(done))
	}
	st, err := projections.Rebuild(ctx, store, store, projections.NewViews(), progress)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if bar != nil {
		_ = bar.Finish()
	}
	fmt.Fprintf(stdout, "replayed %d events in %s (%.0f events/s)\n",
		st.Events, st.Elapsed.Round(time.Millisecond), st.PerSecond())
	return nil
}
