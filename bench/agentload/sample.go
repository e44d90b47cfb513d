package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sample is the server process at one moment; -1 where unknown.
type sample struct {
	rssKB, hwmKB, threads, fds int64
	goroutines, heapBytes      int64 // heap in use + goroutine stacks
}

func unknown() sample { return sample{-1, -1, -1, -1, -1, -1} }

// sampleOnce reads /proc/<pid> and, with -metrics and scrape, GET /metrics.
func sampleOnce(ctx context.Context, c *client, cfg config, scrape bool) sample {
	s := unknown()
	if cfg.pid > 0 {
		dir := "/proc/" + strconv.Itoa(cfg.pid)
		if b, err := os.ReadFile(dir + "/status"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				f := strings.Fields(line)
				if len(f) < 2 {
					continue
				}
				v, _ := strconv.ParseInt(f[1], 10, 64)
				switch f[0] {
				case "VmRSS:":
					s.rssKB = v
				case "VmHWM:":
					s.hwmKB = v
				case "Threads:":
					s.threads = v
				}
			}
		}
		if ents, err := os.ReadDir(dir + "/fd"); err == nil {
			s.fds = int64(len(ents))
		}
	}
	if cfg.metrics && scrape {
		s.goroutines, s.heapBytes = c.goMetrics(ctx)
	}
	return s
}

// goMetrics reads go_goroutines and heap + stack in use from /metrics.
func (c *client) goMetrics(ctx context.Context) (goroutines, heap int64) {
	goroutines, heap = -1, -1
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.addr+"/metrics", nil)
	if err != nil {
		return
	}
	req.Header.Set("Accept-Encoding", "identity") // no gzip of a large page
	resp, err := c.http.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return
	}
	var inuse, stack int64 = -1, -1
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "go_goroutines":
			dst = &goroutines
		case "go_memstats_heap_inuse_bytes":
			dst = &inuse
		case "go_memstats_stack_inuse_bytes":
			dst = &stack
		default:
			continue
		}
		if f, err := strconv.ParseFloat(val, 64); err == nil {
			*dst = int64(f)
		}
	}
	if inuse >= 0 && stack >= 0 {
		heap = inuse + stack
	}
	return goroutines, heap
}

// sampler samples the server until its context ends, keeping each
// field's peak, and measures the CPU other processes use meanwhile.
type sampler struct {
	c   *client
	cfg config

	mu     sync.Mutex
	max    sample
	n      int
	t0, t1 time.Time
	cpu0   cpu
	cpu1   cpu
	load0  string
	load1  string
}

func newSampler(c *client, cfg config) *sampler {
	return &sampler{c: c, cfg: cfg, max: unknown()}
}

func (s *sampler) run(ctx context.Context) {
	s.t0, s.cpu0, s.load0 = time.Now(), s.cpuTicks(), loadavg()
	defer func() { s.t1, s.cpu1, s.load1 = time.Now(), s.cpuTicks(), loadavg() }()
	t := time.NewTicker(s.cfg.sample)
	defer t.Stop()
	var scraped time.Time
	for {
		scrape := time.Since(scraped) >= s.cfg.metricsEvery
		if scrape {
			scraped = time.Now()
		}
		x := sampleOnce(ctx, s.c, s.cfg, scrape)
		s.mu.Lock()
		s.n++
		s.max = sample{max(s.max.rssKB, x.rssKB), max(s.max.hwmKB, x.hwmKB), max(s.max.threads, x.threads),
			max(s.max.fds, x.fds), max(s.max.goroutines, x.goroutines), max(s.max.heapBytes, x.heapBytes)}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *sampler) peak() sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}

// foreign is the share of the machine's CPU (all cores) that the server,
// the simulator and this driver did not use while sampling (other builds
// on the machine; kernel threads, which also do the server's I/O, count as
// foreign), the server's share, and the 1-minute load average at the
// start and the end.
func (s *sampler) foreign() (pct, server float64, load0, load1 string) {
	busy, total := s.cpu1.busy-s.cpu0.busy, s.cpu1.total-s.cpu0.total
	ours := s.cpu1.ours - s.cpu0.ours
	if total > 0 {
		pct = 100 * float64(max(0, busy-ours)) / float64(total)
		server = 100 * float64(s.cpu1.server-s.cpu0.server) / float64(total)
	}
	return pct, server, s.load0, s.load1
}

// serverCPU is the CPU time the server used while sampling.
func (s *sampler) serverCPU() time.Duration {
	const hz = 100 // USER_HZ on Linux
	return time.Duration(s.cpu1.server-s.cpu0.server) * time.Second / hz
}

// cpu is a reading of the CPU counters, in ticks.
type cpu struct {
	busy, total int64 // all cores: user+nice+system+irq+softirq, and everything
	ours        int64 // utime+stime of the server, the simulator and this process
	server      int64 // utime+stime of the server
}

func (s *sampler) cpuTicks() cpu {
	var c cpu
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
		for i := 1; i < len(f) && i <= 8; i++ {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			c.total += v
			if i != 4 && i != 5 && i != 8 {
				c.busy += v
			}
		}
	}
	for _, pid := range []int{os.Getpid(), s.cfg.pid, s.cfg.simPID} {
		if pid <= 0 {
			continue
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		str := string(b)
		f := strings.Fields(str[strings.LastIndexByte(str, ')')+1:]) // f[0] is the state
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			k, _ := strconv.ParseInt(f[12], 10, 64)
			c.ours += u + k
			if pid == s.cfg.pid {
				c.server = u + k
			}
		}
	}
	return c
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
