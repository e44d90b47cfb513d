package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"github.com/circuit-breaker/circuit-breaker/config"
)

// defaultConfigFile is read when it exists and no other file is named.
const defaultConfigFile = "circuit-breaker.toml"

// configFlags are the flags shared by the commands that load the
// configuration.
type configFlags struct {
	path    string
	dataDir string
}

func addConfigFlags(fs *flag.FlagSet) *configFlags {
	c := &configFlags{}
	fs.StringVar(&c.path, "config", defaultConfigFile,
		"configuration `file` (TOML); used if present. Env: CIRCUIT_BREAKER_CONFIG")
	fs.StringVar(&c.dataDir, "data-dir", "", "`directory` for the embedded event store (overrides server.data_dir)")
	return c
}

// load reads the configuration: defaults, the TOML file, the environment,
// then the flags. Every configuration problem is printed to stderr and
// yields exit code 2.
func (c *configFlags) load(fset *flag.FlagSet, stderr io.Writer) (config.Config, error) {
	path, required := c.path, isSet(fset, "config")
	if !required {
		if env, ok := os.LookupEnv("CIRCUIT_BREAKER_CONFIG"); ok && env != "" {
			path, required = env, true
		}
	}
	if !required {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			path = ""
		}
	}
	cfg, err := config.Load(path, os.LookupEnv)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			fmt.Fprintf(stderr, "circuit-breaker: invalid configuration (%d problems):\n", len(ce.Problems))
			for _, p := range ce.Problems {
				fmt.Fprintln(stderr, "  "+p.String())
			}
			return cfg, &exitError{code: 2}
		}
		return cfg, &exitError{code: 2, err: fmt.Errorf("configuration: %w", err)}
	}
	if c.dataDir != "" {
		cfg.Server.DataDir = c.dataDir
	}
	return cfg, nil
}

// isSet reports whether the flag was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// newLogger builds the process logger from the configuration.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	o := &slog.HandlerOptions{Level: cfg.Server.SlogLevel()}
	if cfg.Server.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}
