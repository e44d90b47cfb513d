// Package llmload holds in-process benchmarks of the LLM gateway, for
// profiles and allocation counts that bench/llm.sh (the real binary under
// vegeta) cannot give: the server has no pprof endpoint.
//
// BenchmarkGateway sends the chat completion of bench/llm.sh through an
// HTTP client on 127.0.0.1 to three targets: the simulator directly, the
// gateway (router, openai adapter, simulator) with calls discarded, and
// the gateway with calls journaled to an embedded event store as
// `circuit-breaker serve` does. The gateway's own allocations per request
// are the via runs' allocs/op less the direct run's. Profile with
//
//	go test -run='^$' -bench=Gateway -benchmem -cpuprofile=cpu.out -memprofile=mem.out ./bench/llmload/
//	go tool pprof -top -focus='gateway|router|openai|journal' llmload.test cpu.out
package llmload
