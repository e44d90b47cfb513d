package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		name string
		xs   []float64
		q    float64
		want float64
	}{
		{"median of ten", xs, 0.5, 5},
		{"p99 of ten is the largest", xs, 0.99, 10},
		{"p0 is the smallest", xs, 0, 1},
		{"empty", nil, 0.5, 0},
		{"one value", []float64{7}, 0.99, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.xs, tc.q); got != tc.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tc.xs, tc.q, got, tc.want)
			}
		})
	}
}

func TestMaxOverlap(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(1000+int64(s), 0) }
	run := func(from, to int) runInfo { return runInfo{StartedAt: at(from), UpdatedAt: at(to)} }
	tests := []struct {
		name string
		runs []runInfo
		want int
	}{
		{"none", nil, 0},
		{"disjoint", []runInfo{run(0, 1), run(2, 3)}, 1},
		{"one ends as the next starts", []runInfo{run(0, 1), run(1, 2)}, 1},
		{"nested and overlapping", []runInfo{run(0, 10), run(1, 2), run(1, 5), run(4, 6)}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := maxOverlap(tc.runs); got != tc.want {
				t.Errorf("maxOverlap = %d, want %d", got, tc.want)
			}
		})
	}
}
