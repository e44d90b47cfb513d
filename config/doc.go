// Package config loads Circuit Breaker's configuration: typed sections with
// defaults, an optional TOML file (circuit-breaker.toml) and environment
// overrides.
//
// [Load] builds a [Config] in four steps:
//
//  1. Start from [Default]. The defaults are safe for a single machine: the
//     server listens on loopback (127.0.0.1:4000), events live in ./data and
//     the embedded NATS server is used.
//  2. Read the TOML file, if a path is given. Every string value may refer to
//     environment variables as ${VAR} or ${VAR:-default}; "$${" stands for a
//     literal "${". ${VAR} with VAR unset is an error; ${VAR:-default} uses
//     default when VAR is unset or empty. Decoding is strict: a key the
//     configuration does not know is an error, as is a value of the wrong
//     type.
//  3. Apply the environment overrides, all listed in one table (see
//     [Overrides]). An override that is unset or empty is ignored; a value
//     that does not parse is an error naming the variable.
//  4. Validate the result (ports, log level and format, durations, counts).
//
// Load reports every problem it finds at once, as an [*Error] holding one
// [Problem] per fault, in file order, each rendered as
//
//	path:line: key: reason
//
// for example
//
//	testdata/bad_types.bad.toml:3: server.port: must be between 1 and 65535, got 70000
//
// A value that came from an environment variable is reported with "$NAME" in
// place of the file and no line; a value left at its default has neither. A
// TOML syntax error stops parsing and is reported alone, with its line.
//
// Keys in messages are dotted TOML paths; a segment that is not a bare key is
// quoted (llm.providers."my.host".base_url) and array elements are indexed
// (llm.providers.openai.models[1]).
package config
