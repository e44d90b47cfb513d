package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Load returns the configuration made of [Default], the TOML file at path
// (skipped when path is ""), and the environment overrides, validated; see
// the package documentation for the steps. env looks up environment
// variables, like os.LookupEnv (used when env is nil).
//
// An invalid configuration yields an [*Error] listing every problem. A file
// that cannot be read yields its wrapped *fs.PathError instead.
func Load(path string, env func(string) (string, bool)) (Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	c := Default()
	ps := &problems{file: path}
	pos := positions{}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		var ok bool
		if pos, ok = decodeFile(path, data, &c, env, ps); !ok {
			return Config{}, ps.err()
		}
	}
	from := applyEnv(&c, env, ps)
	validate(&c, &checker{file: path, pos: pos, from: from, ps: ps})
	if err := ps.err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// decodeFile decodes data onto c. It returns false after a syntax error,
// which stops decoding.
func decodeFile(path string, data []byte, c *Config, env func(string) (string, bool), ps *problems) (positions, bool) {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			ps.add(path, line, "", "syntax error: "+strings.TrimPrefix(de.Error(), "toml: "))
		} else {
			ps.add(path, 0, "", "syntax error: "+err.Error())
		}
		return nil, false
	}
	pos := indexKeys(data)
	d := &decoder{file: path, pos: pos, env: env, ps: ps}
	d.table(nil, doc, reflect.ValueOf(c).Elem())
	return pos, true
}
