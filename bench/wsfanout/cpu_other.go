//go:build !linux

package main

// cpuTimes is a snapshot of CPU time spent; without /proc it stays zero.
type cpuTimes struct {
	server, driver, machine float64
}

func cpuNow(int) cpuTimes { return cpuTimes{} }

func (t cpuTimes) sub(cpuTimes) cpuTimes { return t }
