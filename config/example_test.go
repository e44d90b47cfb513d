package config_test

import (
	"errors"
	"fmt"

	"github.com/circuit-breaker/circuit-breaker/config"
)

func ExampleLoad() {
	env := map[string]string{"CIRCUIT_BREAKER_PORT": "8080"}
	c, err := config.Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Addr(), c.IsLoopback(), c.Actors.PassivateAfter)
	// Output: 127.0.0.1:8080 true 2m0s
}

func ExampleError() {
	_, err := config.Load("testdata/bad_types.bad.toml", func(string) (string, bool) { return "", false })
	var ce *config.Error
	if errors.As(err, &ce) {
		for _, p := range ce.Problems[:2] {
			fmt.Printf("line %d, key %s: %s\n", p.Line, p.Key, p.Msg)
		}
	}
	// Output:
	// line 3, key server.port: must be between 1 and 65535, got 70000
	// line 4, key server.workers: expected integer, got string
}
