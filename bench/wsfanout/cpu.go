//go:build linux

package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuTimes is a snapshot of CPU time spent: by the server, by this driver
// and by the whole machine (all in seconds; zero where /proc is missing).
type cpuTimes struct {
	server, driver, machine float64
}

// clockTick is USER_HZ, the unit of /proc CPU times (100 on Linux).
const clockTick = 100

func cpuNow(pid int) cpuTimes {
	var t cpuTimes
	if pid > 0 {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			s := string(b)
			if i := strings.LastIndexByte(s, ')'); i >= 0 {
				f := strings.Fields(s[i+1:]) // f[11], f[12]: utime, stime
				if len(f) > 12 {
					u, _ := strconv.ParseFloat(f[11], 64)
					k, _ := strconv.ParseFloat(f[12], 64)
					t.server = (u + k) / clockTick
				}
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		t.driver = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
		for i, v := range f[1:] {
			if i == 3 || i == 4 { // idle, iowait
				continue
			}
			if i >= 8 { // guest time is already in user
				break
			}
			x, _ := strconv.ParseFloat(v, 64)
			t.machine += x / clockTick
		}
	}
	return t
}

// sub returns the CPU time spent between o and t.
func (t cpuTimes) sub(o cpuTimes) cpuTimes {
	return cpuTimes{t.server - o.server, t.driver - o.driver, t.machine - o.machine}
}
