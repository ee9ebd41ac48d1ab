package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// health is the part of GET /__admin/health the soak watches.
type health struct {
	Goroutines int           `json:"goroutines"`
	HeapBytes  uint64        `json:"heap_bytes"`
	Recorder   recorderStats `json:"recorder"`
}

// recorderStats are the inspector's counters.
type recorderStats struct {
	Recorded    uint64 `json:"recorded"`
	Dropped     uint64 `json:"dropped"`
	WriteErrors uint64 `json:"write_errors"`
	LastError   string `json:"last_error"`
	Pending     int    `json:"pending"`
	Stored      int    `json:"stored"`
}

// readHealth asks the admin API for the server's figures.
func readHealth(ctx context.Context, client *http.Client, base string) (health, error) {
	var h health
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/__admin/health", nil)
	if err != nil {
		return h, err
	}
	return h, doJSON(client, req, &h)
}

// soakSampler reads the server's resident set and health at every
// interval and prints a line for each sample. It has a client of its
// own, so that the load never keeps it waiting for a connection.
type soakSampler struct {
	client *http.Client
	base   string
	pid    int
	mix    *soakMix
	out    io.Writer
	start  time.Time
	last   health // the latest health answer
	failed int    // samples that could not be read
	// prev, prevN and sampled are the previous sample and the requests
	// sent by then.
	prev    soakPoint
	prevN   int64
	sampled bool
}

// sampleUntil samples at start, start+interval, … before the deadline,
// until done is closed.
func (s *soakSampler) sampleUntil(ctx context.Context, interval time.Duration, deadline time.Time, done <-chan struct{}) []soakPoint {
	var points []soakPoint
	for i := 0; ; i++ {
		next := s.start.Add(time.Duration(i) * interval)
		if !next.Before(deadline) {
			return points
		}
		select {
		case <-done:
			return points
		case <-ctx.Done():
			return points
		case <-time.After(time.Until(next)):
		}
		if p, ok := s.take(ctx); ok {
			points = append(points, p)
		}
	}
}

// take reads one sample and prints it.
func (s *soakSampler) take(ctx context.Context) (soakPoint, bool) {
	at := time.Since(s.start)
	proc, err := readProc(s.pid)
	if err != nil {
		s.failed++
		fmt.Fprintf(s.out, "%7s  sample failed: %v\n", at.Round(time.Second), err)
		return soakPoint{}, false
	}
	h, err := readHealth(ctx, s.client, s.base)
	if err != nil {
		s.failed++
		fmt.Fprintf(s.out, "%7s  sample failed: %v\n", at.Round(time.Second), err)
		return soakPoint{}, false
	}
	s.last = h
	p := soakPoint{at: at, rssKB: proc.rssKB, anonKB: proc.anonKB, fileKB: proc.fileKB, goroutines: h.Goroutines, heapBytes: h.HeapBytes}
	s.print(p, h)
	return p, true
}

// printSampleHeader prints the heading of the sample lines.
func printSampleHeader(out io.Writer) {
	fmt.Fprintf(out, "%7s  %10s  %10s  %10s  %10s  %10s  %8s  %7s  %10s  %7s  %6s\n",
		"time", "RSS", "(anon", "file)", "heap", "goroutines", "stored", "dropped", "requests", "req/s", "errors")
}

// print prints a sample, with the resident set's anonymous and
// file-backed parts, and the traffic since the previous sample.
func (s *soakSampler) print(p soakPoint, h health) {
	n, errs := s.mix.totals()
	rate := 0.0
	if dt := (p.at - s.prev.at).Seconds(); s.sampled && dt > 0 {
		rate = float64(n-s.prevN) / dt
	}
	s.prev, s.prevN, s.sampled = p, n, true
	fmt.Fprintf(s.out, "%7s  %10s  %10s  %10s  %10s  %10d  %8d  %7d  %10d  %7.0f  %6d\n",
		p.at.Round(time.Second), mib(p.rssKB), mib(p.anonKB), mib(p.fileKB), mib(int64(p.heapBytes/1024)),
		p.goroutines, h.Recorder.Stored, h.Recorder.Dropped, n, rate, errs)
}
