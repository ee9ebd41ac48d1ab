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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// errUsage reports bad flags; the flag package has said why.
var errUsage = errors.New("usage")

// loadFlags are the flags of `loadgen load`.
type loadFlags struct {
	addr        string
	pid         int
	conns       int
	duration    time.Duration
	warmup      time.Duration
	scenarios   string
	tokens      int
	maxRequests int64
	rounds      int
	fill        int64
	fillTimeout time.Duration
	out         string
}

func parseLoadFlags(args []string, stderr io.Writer) (loadFlags, error) {
	var f loadFlags
	fs := flag.NewFlagSet("loadgen load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.addr, "addr", "", "the regsandbox HTTP address, 127.0.0.1:PORT (required)")
	fs.IntVar(&f.pid, "pid", 0, "the regsandbox process id, to read its CPU time and memory (0: not measured)")
	fs.IntVar(&f.conns, "c", 32, "concurrent keep-alive connections")
	fs.DurationVar(&f.duration, "d", 5*time.Second, "measured duration of each scenario on each target")
	fs.DurationVar(&f.warmup, "warmup", time.Second, "unmeasured warm-up before each measurement")
	fs.IntVar(&f.rounds, "rounds", 5, "rounds that alternate between the ceiling and the server within -d")
	fs.StringVar(&f.scenarios, "scenarios", defaultScenarios, "comma-separated scenarios")
	fs.IntVar(&f.tokens, "tokens", 2048, "social tokens minted for auth_native")
	fs.Int64Var(&f.maxRequests, "max-requests", 5_000_000, "upper bound of requests per phase")
	fs.Int64Var(&f.fill, "fill", 0, "instead of the scenarios, send this many flow downloads and report the server's memory")
	fs.DurationVar(&f.fillTimeout, "fill-timeout", 3*time.Minute, "upper bound of the time -fill may take")
	fs.StringVar(&f.out, "out", "", "write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return f, errUsage
	}
	if f.conns < 1 || f.conns > 1024 || f.duration <= 0 || f.warmup < 0 || f.maxRequests < 1 || f.rounds < 1 ||
		f.duration/time.Duration(f.rounds) < minRound {
		fmt.Fprintf(stderr, "loadgen load: -c must be 1..1024, -d positive, -warmup non-negative, -max-requests positive, "+
			"-rounds positive and -d / -rounds at least %s\n", minRound)
		return f, errUsage
	}
	return f, checkLoopback(f.addr)
}

// runLoad is `loadgen load`.
func runLoad(args []string, stdout, stderr io.Writer) error {
	f, err := parseLoadFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	client := newClient(f.conns)
	base := "http://" + f.addr
	if err := waitHealthy(ctx, client, base); err != nil {
		return err
	}
	report := &Report{Machine: thisMachine()}
	if f.fill > 0 {
		err = fill(ctx, f, client, report, stdout)
	} else {
		err = loadScenarios(ctx, f, client, report, stdout)
	}
	if err != nil {
		return err
	}
	return writeReport(f.out, report)
}

// waitHealthy waits up to ten seconds for the admin health check.
func waitHealthy(ctx context.Context, client *http.Client, base string) error {
	var last error
	for range 100 {
		var health map[string]any
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/__admin/health", nil)
		if err != nil {
			return err
		}
		if last = doJSON(client, req, &health); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the server at %s is not healthy: %w", base, last)
}

// loadScenarios prepares the scenarios, starts the bare ceiling with the
// server's answers, and compares the two on every scenario.
func loadScenarios(ctx context.Context, f loadFlags, client *http.Client, report *Report, out io.Writer) error {
	t := target{client: client, base: "http://" + f.addr, conns: f.conns, nonce: nonce(), tokens: f.tokens}
	scenarios, answers, err := prepare(ctx, t, strings.Split(f.scenarios, ","))
	if err != nil {
		return err
	}
	bare, err := startCeiling(answers)
	if err != nil {
		return err
	}
	defer bare.stop()
	ceiling := measured{client: newClient(f.conns), base: "http://" + bare.addr, proc: watcher{pid: bare.pid()}}
	unrecorded := measured{client: client, base: t.base, proc: watcher{pid: f.pid}, recording: recordingSwitch(client, t.base, true)}
	// The same server recording, whose rounds wait for the recorder.
	server := unrecorded
	server.recording, server.settle = recordingSwitch(client, t.base, false), recorderDrain(client, t.base)
	// Whatever happens, leave the server recording.
	defer server.recording(context.Background())
	report.Settings = &Settings{Conns: f.conns, Seconds: f.duration.Seconds(), WarmupSeconds: f.warmup.Seconds(), Rounds: f.rounds}
	if err := compareAll(ctx, f, scenarios, targets{ceiling, server, unrecorded}, report, out); err != nil {
		return err
	}
	after := server.proc.read()
	report.AfterLoad = new(after.memory())
	fmt.Fprintf(out, "server memory after the load: RSS %s, peak %s\n", mib(after.rssKB), mib(after.hwmKB))
	return nil
}

// compareAll compares the targets on every scenario, printing each result
// as it comes, and notes how busy the rest of the machine was meanwhile.
func compareAll(ctx context.Context, f loadFlags, scenarios []*scenario, t targets, report *Report, out io.Writer) error {
	fmt.Fprintf(out, "%d connections, %s per scenario and target in %d alternating rounds, after %s of warm-up\n",
		f.conns, f.duration, f.rounds, f.warmup)
	printHeader(out)
	noise := startNoise(t.server.proc.pid, t.ceiling.proc.pid)
	for _, sc := range scenarios {
		r := compare(ctx, f, sc, t)
		printMeasure(out, sc.name, "ceiling", r.Ceiling)
		printMeasure(out, sc.name, "server", r.Server)
		printMeasure(out, sc.name, "unrecorded", *r.Unrecorded)
		if cost, ok := r.recordingCost(); ok {
			fmt.Fprintf(out, "%-12s recording costs %s of the server's req/s\n", sc.name, cost)
		}
		report.Scenarios = append(report.Scenarios, r)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	report.Settings.OtherCPU = noise.share()
	fmt.Fprintf(out, "other processes used %.0f%% of the CPUs during the load\n", 100*report.Settings.OtherCPU)
	return nil
}

// prepare builds the scenarios and records the server's answer to each,
// for the bare server.
func prepare(ctx context.Context, t target, names []string) ([]*scenario, map[string]answer, error) {
	var scenarios []*scenario
	answers := map[string]answer{}
	for _, name := range names {
		sc, err := newScenario(ctx, strings.TrimSpace(name), t)
		if err != nil {
			return nil, nil, err
		}
		if answers[sc.path], err = recordAnswer(ctx, t.client, t.base, sc); err != nil {
			return nil, nil, err
		}
		scenarios = append(scenarios, sc)
	}
	return scenarios, answers, nil
}

// targets are what each scenario is measured on: the bare ceiling, the
// server recording, and the same server with recording paused.
type targets struct {
	ceiling, server, unrecorded measured
}

// minRound is the shortest round: the start and the end of a phase, when
// connections idle or wait for their last answers, would weigh in a
// shorter one.
const minRound = 50 * time.Millisecond

// compare measures sc on every target: a warm-up on each, then the
// measured time cut into rounds that visit the targets in turn, each
// round in another order, so that whatever else the machine does weighs
// on all alike.
func compare(ctx context.Context, f loadFlags, sc *scenario, t targets) ScenarioResult {
	const ceiling, server, unrecorded = 0, 1, 2 // in all
	all := []measured{t.ceiling, t.server, t.unrecorded}
	outcomes := make([]outcome, len(all))
	for _, m := range all {
		m.drive(ctx, f, sc, f.warmup)
	}
	slice := f.duration / time.Duration(f.rounds)
	rounds := make([]RoundPair, f.rounds)
	for i := range f.rounds {
		for j := range all {
			k := (i + j) % len(all)
			o := all[k].drive(ctx, f, sc, slice)
			outcomes[k].add(o)
			switch k {
			case server:
				rounds[i].Recording = o.round()
			case unrecorded:
				rounds[i].Paused = o.round()
			}
		}
	}
	paused := outcomes[unrecorded].measure()
	return ScenarioResult{Name: sc.name, Ceiling: outcomes[ceiling].measure(), Server: outcomes[server].measure(),
		Unrecorded: &paused, Rounds: rounds}
}

// recordingSwitch returns a function that pauses or resumes the server's
// recording through the admin API.
func recordingSwitch(client *http.Client, base string, paused bool) func(context.Context) error {
	body := fmt.Sprintf(`{"paused":%t}`, paused)
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/__admin/recording", strings.NewReader(body))
		if err != nil {
			return err
		}
		var state struct{ Paused bool }
		if err := doJSON(client, req, &state); err != nil {
			return fmt.Errorf("setting recording paused=%t: %w", paused, err)
		}
		if state.Paused != paused {
			return fmt.Errorf("the server did not set recording paused=%t", paused)
		}
		return nil
	}
}

// recorderDrain returns a function that waits until the server's
// recorder has stored every exchange answered so far: listing the
// recorded requests waits for them.
func recorderDrain(client *http.Client, base string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/__admin/requests?limit=1", nil)
		if err != nil {
			return err
		}
		var page struct{ Exchanges []json.RawMessage }
		if err := doJSON(client, req, &page); err != nil {
			return fmt.Errorf("waiting for the recorder: %w", err)
		}
		return nil
	}
}

// measured is a target of the load with the process that serves it.
type measured struct {
	client *http.Client
	base   string
	proc   watcher
	// recording, when set, puts the server in the state this target
	// measures before each phase.
	recording func(context.Context) error
	// settle, when set, waits after each phase for the work the phase
	// left behind: the recorder's writer stores answered exchanges a
	// little later, and that work belongs to the phase that caused it,
	// not to whichever target runs next. Its time and the server's CPU
	// meanwhile count in the phase, as if requests were still sent.
	settle func(context.Context) error
}

// outcome is what one or more phases measured on one target.
type outcome struct {
	sample
	cpu time.Duration // the serving process's CPU time
	rss int64         // its resident set after the last phase
}

// drive runs sc against the target for d and reads the process's
// counters around it.
func (m measured) drive(ctx context.Context, f loadFlags, sc *scenario, d time.Duration) outcome {
	if d <= 0 {
		return outcome{}
	}
	p := phase{client: m.client, base: m.base, sc: sc, conns: f.conns, duration: d, maxRequests: f.maxRequests}
	if m.recording != nil {
		if err := m.recording(ctx); err != nil {
			return outcome{sample: sample{errors: 1, firstError: err.Error()}}
		}
	}
	before := m.proc.read()
	s := p.run(ctx)
	if m.settle != nil {
		start := time.Now()
		if err := m.settle(ctx); err != nil {
			s.errors++
			if s.firstError == "" {
				s.firstError = err.Error()
			}
		}
		s.elapsed += time.Since(start)
	}
	after := m.proc.read()
	return outcome{sample: s, cpu: after.cpu - before.cpu, rss: after.rssKB}
}

// round is the outcome as one round of the recording cost.
func (r outcome) round() Round {
	return Round{Requests: r.requests, Seconds: r.elapsed.Seconds()}
}

// add appends another outcome's figures.
func (r *outcome) add(o outcome) {
	r.requests += o.requests
	r.errors += o.errors
	if r.firstError == "" {
		r.firstError = o.firstError
	}
	r.elapsed += o.elapsed
	r.latencies = append(r.latencies, o.latencies...)
	r.mallocs += o.mallocs
	r.allocBytes += o.allocBytes
	r.cpu += o.cpu
	r.rss = o.rss
}

// measure sorts the latencies and summarizes the run.
func (r *outcome) measure() Measure {
	slices.Sort(r.latencies)
	return measure(r.sample, r.cpu, r.rss)
}

// fill sends cheap requests until the inspector holds f.fill exchanges
// (a writer that falls behind drops some, so it tops up, sending at most
// three times f.fill in all), and reads the server's memory before and
// after.
func fill(ctx context.Context, f loadFlags, client *http.Client, report *Report, out io.Writer) error {
	server := watcher{pid: f.pid}
	before := server.read()
	base := "http://" + f.addr
	deadline := time.Now().Add(f.fillTimeout)
	var total outcome
	stored := 0
	for want := f.fill; want > 0 && total.requests < int(3*f.fill) && time.Now().Before(deadline); want = f.fill - int64(stored) {
		p := phase{client: client, base: base, sc: flowScenario(), conns: f.conns,
			duration: time.Until(deadline), maxRequests: want}
		total.add(outcome{sample: p.run(ctx)})
		// Let the recorder's writer catch up and the runtime settle.
		time.Sleep(2 * time.Second)
		if stored = storedExchanges(ctx, client, base); stored < 0 {
			break
		}
	}
	after := server.read()
	r := &FillResult{Requests: total.requests, Errors: total.errors, Seconds: total.elapsed.Seconds(),
		Before: before.memory(), After: after.memory(),
		Stored: stored}
	report.Fill = r
	fmt.Fprintf(out, "fill: %d requests (%d errors) in %.1fs; server RSS %s before, %s after (peak %s)\n",
		r.Requests, r.Errors, r.Seconds, mib(before.rssKB), mib(after.rssKB), mib(after.hwmKB))
	if total.firstError != "" {
		fmt.Fprintln(out, "fill: first error:", total.firstError)
	}
	if r.Stored >= 0 {
		fmt.Fprintf(out, "fill: the inspector holds %d exchanges\n", r.Stored)
	}
	return nil
}

// nonce tells the unique values of one loadgen run from another's.
func nonce() string {
	return strconv.FormatInt(time.Now().UnixNano()%1e12, 36)
}

// mib formats kilobytes as MiB.
func mib(kb int64) string {
	if kb == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
}
