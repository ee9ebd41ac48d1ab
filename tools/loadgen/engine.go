package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// phase is one bounded run of a scenario against one target: conns
// workers send requests back to back until duration has passed or
// maxRequests have been sent, whichever comes first.
type phase struct {
	client      *http.Client
	base        string
	sc          *scenario
	conns       int
	duration    time.Duration
	maxRequests int64
}

// tally is what one worker saw.
type tally struct {
	latencies  []time.Duration
	errors     int
	firstError error
}

// sample is what a phase measured.
type sample struct {
	requests   int
	errors     int
	firstError string
	elapsed    time.Duration
	latencies  []time.Duration
	mallocs    uint64 // client heap allocations during the phase
	allocBytes uint64
}

// run drives the phase and gathers its measurements.
func (p phase) run(ctx context.Context) sample {
	ctx, cancel := context.WithTimeout(ctx, p.duration+time.Minute)
	defer cancel()
	var sent atomic.Int64
	tallies := make([]tally, p.conns)
	deadline := time.Now().Add(p.duration)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range p.conns {
		wg.Go(func() { tallies[w] = p.worker(ctx, w, deadline, &sent) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	s := merge(tallies)
	s.elapsed = elapsed
	s.mallocs = after.Mallocs - before.Mallocs
	s.allocBytes = after.TotalAlloc - before.TotalAlloc
	return s
}

// worker sends requests one after the other on its connection.
func (p phase) worker(ctx context.Context, w int, deadline time.Time, sent *atomic.Int64) tally {
	var t tally
	var buf bytes.Buffer
	for ctx.Err() == nil && time.Now().Before(deadline) && sent.Add(1) <= p.maxRequests {
		start := time.Now()
		err := p.once(ctx, w, &buf)
		t.latencies = append(t.latencies, time.Since(start))
		if err != nil {
			t.errors++
			if t.firstError == nil {
				t.firstError = err
			}
		}
	}
	return t
}

// once sends one request and checks its answer.
func (p phase) once(ctx context.Context, w int, buf *bytes.Buffer) error {
	req, err := p.sc.request(ctx, p.base, w)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != p.sc.status || !bytes.Contains(buf.Bytes(), p.sc.expect) {
		return fmt.Errorf("unexpected answer %d: %.300s", resp.StatusCode, buf.Bytes())
	}
	return nil
}

// merge adds up the workers' tallies.
func merge(tallies []tally) sample {
	var s sample
	for _, t := range tallies {
		s.latencies = append(s.latencies, t.latencies...)
		s.errors += t.errors
		if t.firstError != nil && s.firstError == "" {
			s.firstError = t.firstError.Error()
		}
	}
	s.requests = len(s.latencies)
	return s
}

// percentile returns the q-quantile (0 < q ≤ 1) of latencies sorted in
// increasing order.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
