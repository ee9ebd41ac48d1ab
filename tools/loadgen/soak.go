package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// errSoakFailed reports a soak that ran and missed a criterion.
var errSoakFailed = errors.New("the soak failed a criterion")

// maxSoakDuration bounds -d.
const maxSoakDuration = 24 * time.Hour

// soakFlags are the flags of `loadgen soak`.
type soakFlags struct {
	addr        string
	pid         int
	conns       int
	duration    time.Duration
	interval    time.Duration
	maxRequests int64
	recordLimit int
	tokens      int
	rss         string // the part of the resident set judged: rssTotal or rssAnon
}

// The parts of the resident set that -rss can judge.
const (
	rssTotal = "total"
	rssAnon  = "anon"
)

func parseSoakFlags(args []string, stderr io.Writer) (soakFlags, error) {
	var f soakFlags
	fs := flag.NewFlagSet("loadgen soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.addr, "addr", "", "the regsandbox HTTP address, 127.0.0.1:PORT (required)")
	fs.IntVar(&f.pid, "pid", 0, "the regsandbox process id, to read its resident set (required)")
	fs.IntVar(&f.conns, "c", 16, "concurrent keep-alive connections")
	fs.DurationVar(&f.duration, "d", 3*time.Minute, "duration of the load")
	fs.DurationVar(&f.interval, "sample", 5*time.Second, "time between samples of the server")
	fs.Int64Var(&f.maxRequests, "max-requests", 20_000_000, "upper bound of the requests of the whole run")
	fs.IntVar(&f.recordLimit, "record-limit", 20_000, "the inspector's retention set before the load (0: leave it)")
	fs.IntVar(&f.tokens, "tokens", 8, "social tokens per connection for the 310 calls")
	fs.StringVar(&f.rss, "rss", rssTotal, "the part of the resident set judged: total (VmRSS) or anon (RssAnon, without mapped files)")
	if err := fs.Parse(args); err != nil {
		return f, errUsage
	}
	if f.pid <= 0 || f.conns < 1 || f.conns > 1024 || f.duration <= 0 || f.duration > maxSoakDuration ||
		f.interval <= 0 || f.duration < 3*minSoakSamples*f.interval || f.maxRequests < 1 ||
		f.recordLimit < 0 || f.tokens < 1 || f.tokens > 1000 || (f.rss != rssTotal && f.rss != rssAnon) {
		fmt.Fprintf(stderr, "loadgen soak: -pid is required, -c must be 1..1024, -d positive, at most %s and at least %d × -sample, -max-requests positive, -record-limit non-negative, -tokens 1..1000, -rss total or anon\n",
			maxSoakDuration, 3*minSoakSamples)
		return f, errUsage
	}
	return f, checkLoopback(f.addr)
}

// runSoak is `loadgen soak`: mixed traffic for -d while the server's
// goroutines and resident set are sampled, then the verdict.
func runSoak(args []string, stdout, stderr io.Writer) error {
	f, err := parseSoakFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// A hard bound on the whole run, set-up and stragglers included.
	ctx, cancel := context.WithTimeout(ctx, f.duration+2*time.Minute)
	defer cancel()
	s, mix, err := prepareSoak(ctx, f, stdout)
	if err != nil {
		return err
	}
	points := soakLoad(ctx, f, mix, s)
	if ctx.Err() != nil {
		return fmt.Errorf("the soak was cut short: %w", ctx.Err())
	}
	return soakVerdict(stdout, f, mix, s, points)
}

// prepareSoak checks the server, sets its retention and prepares the
// traffic and the sampler.
func prepareSoak(ctx context.Context, f soakFlags, out io.Writer) (*soakSampler, *soakMix, error) {
	admin := newClient(2)
	base := "http://" + f.addr
	if err := waitHealthy(ctx, admin, base); err != nil {
		return nil, nil, err
	}
	if _, err := readProc(f.pid); err != nil {
		return nil, nil, fmt.Errorf("reading the server's process: %w", err)
	}
	if err := setRecordLimit(ctx, admin, base, f.recordLimit); err != nil {
		return nil, nil, err
	}
	mix, err := newSoakMix(ctx, newClient(f.conns), f.addr, f.conns, f.tokens, f.maxRequests)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(out, "soak: %d connections for %s (at most %d requests), a sample every %s, record limit %d\n",
		f.conns, f.duration, f.maxRequests, f.interval, f.recordLimit)
	printSampleHeader(out)
	return &soakSampler{client: admin, base: base, pid: f.pid, mix: mix, out: out}, mix, nil
}

// soakLoad drives the traffic until the deadline or the budget while the
// sampler samples, and returns the samples.
func soakLoad(ctx context.Context, f soakFlags, mix *soakMix, s *soakSampler) []soakPoint {
	s.start = time.Now()
	deadline := s.start.Add(f.duration)
	done := make(chan struct{})
	go func() {
		defer close(done)
		mix.drive(ctx, deadline)
	}()
	points := s.sampleUntil(ctx, f.interval, deadline, done)
	<-done
	return points
}

// soakVerdict prints the per-call counts, the recorder's state and the
// criteria; errSoakFailed when one is missed.
func soakVerdict(out io.Writer, f soakFlags, mix *soakMix, s *soakSampler, points []soakPoint) error {
	elapsed := time.Since(s.start)
	requests, errs := mix.totals()
	fmt.Fprintf(out, "\n%d requests in %s (%.0f/s), %d unexpected answers\n",
		requests, elapsed.Round(time.Second), float64(requests)/elapsed.Seconds(), errs)
	mix.printCalls(out)
	r := s.last.Recorder
	fmt.Fprintf(out, "recorder: %d stored (limit %d), %d recorded, %d dropped, %d pending, %d write errors %s\n",
		r.Stored, f.recordLimit, r.Recorded, r.Dropped, r.Pending, r.WriteErrors, r.LastError)
	printTrends(out, points)
	base, final := soakWindows(points)
	fmt.Fprintf(out, "judged on %d samples: %s of warm-up, then the baseline %s against the end %s\n",
		len(points), span(points[:len(points)/3]), span(base), span(final))
	criteria := append(judgeRSSPart(points, f.rss), errorCriterion(requests, errs), samplesCriterion(len(points), s.failed))
	if !printCriteria(out, criteria) {
		return errSoakFailed
	}
	return nil
}

// printTrends prints, as information, how the parts of the resident set
// and the Go heap moved: a growing file-backed part is mapped database
// files (Badger's tables and logs), not leaked memory.
func printTrends(out io.Writer, points []soakPoint) {
	fmt.Fprintf(out, "information: RSS anon %s; RSS file-backed %s; Go heap %s\n",
		trend(points, func(p soakPoint) float64 { return float64(p.anonKB) }),
		trend(points, func(p soakPoint) float64 { return float64(p.fileKB) }),
		trend(points, func(p soakPoint) float64 { return float64(p.heapBytes) / 1024 }))
}

// judgeRSSPart judges flatness on the part of the resident set that
// -rss names.
func judgeRSSPart(points []soakPoint, part string) []criterion {
	if part != rssAnon {
		return judgeFlatness(points)
	}
	anon := make([]soakPoint, len(points))
	for i, p := range points {
		p.rssKB = p.anonKB
		anon[i] = p
	}
	c := judgeFlatness(anon)
	c[1].name = "RSS (anon) flat"
	return c
}

// span describes the time a window of samples covers.
func span(points []soakPoint) string {
	if len(points) == 0 {
		return "(none)"
	}
	return fmt.Sprintf("%s–%s", points[0].at.Round(time.Second), points[len(points)-1].at.Round(time.Second))
}

// setRecordLimit sets the workspace's settings.record_limit through the
// admin API, leaving the rest of the workspace as it is, so that the
// inspector's stored log reaches its plateau during the soak.
func setRecordLimit(ctx context.Context, client *http.Client, base string, limit int) error {
	if limit == 0 {
		return nil
	}
	var ws map[string]json.RawMessage
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/__admin/workspace", nil)
	if err != nil {
		return err
	}
	if err := doJSON(client, req, &ws); err != nil {
		return fmt.Errorf("reading the workspace: %w", err)
	}
	body, err := withRecordLimit(ws, limit)
	if err != nil {
		return err
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodPut, base+"/__admin/workspace", strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	var back struct {
		Settings struct {
			RecordLimit int `json:"record_limit"`
		} `json:"settings"`
	}
	if err := doJSON(client, req, &back); err != nil {
		return fmt.Errorf("setting the record limit: %w", err)
	}
	if back.Settings.RecordLimit != limit {
		return fmt.Errorf("the server kept record_limit %d instead of %d", back.Settings.RecordLimit, limit)
	}
	return nil
}

// withRecordLimit returns the workspace document ws with
// settings.record_limit set to limit.
func withRecordLimit(ws map[string]json.RawMessage, limit int) ([]byte, error) {
	if ws == nil {
		return nil, errors.New("the server answered no workspace")
	}
	settings := map[string]any{}
	if raw, ok := ws["settings"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &settings); err != nil {
			return nil, fmt.Errorf("the workspace's settings: %w", err)
		}
	}
	settings["record_limit"] = limit
	raw, err := json.Marshal(settings)
	if err != nil {
		return nil, err
	}
	ws["settings"] = raw
	return json.Marshal(ws)
}
