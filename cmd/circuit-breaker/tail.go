package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"github.com/circuit-breaker/circuit-breaker/events"
)

func eventsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "tail" {
		fmt.Fprint(stderr, "Usage:\n  circuit-breaker events tail [flags]\n\nRun \"circuit-breaker events tail -h\" for its flags.\n")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return &exitError{code: 2}
	}
	fs := newFlags("events tail", "events tail [flags]",
		`Prints the server's event log, one event per line:

  position stream@revision type data

from position --from (default 1) to the current end, or on and on with
--follow until interrupted. Reads GET /api/v1/events.
`, stderr)
	cl := addClientFlags(fs)
	stream := fs.String("stream", "", "only the events of this `stream`, e.g. resource-doc-1")
	from := fs.Uint64("from", 1, "first `position` to print")
	follow := fs.Bool("follow", false, "keep printing new events until interrupted")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	q := url.Values{"from": {strconv.FormatUint(*from, 10)}}
	if *stream != "" {
		q.Set("stream", *stream)
	}
	if *follow {
		q.Set("follow", "1")
	}
	req, err := http.NewRequestWithContext(ctx, "GET", cl.base(fs, os.LookupEnv)+"/api/v1/events?"+q.Encode(), nil)
	if err != nil {
		return usageErr("--server: %v", err)
	}
	cl.header(req)
	res, err := http.DefaultClient.Do(req) // no timeout: a followed feed lasts
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return apiError(res)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var e events.Envelope
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("bad event line %q: %w", sc.Text(), err)
		}
		fmt.Fprintf(stdout, "%d %s@%d %s %s\n", e.Position, e.Stream, e.Revision, e.Type, e.Data)
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
