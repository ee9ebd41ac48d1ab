package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"time"
)

// Report is what a subcommand measured, written as JSON for `loadgen
// summary`; reports of several runs merge into one.
type Report struct {
	Machine    *Machine          `json:"machine,omitempty"`
	Settings   *Settings         `json:"settings,omitempty"`
	Scenarios  []ScenarioResult  `json:"scenarios,omitempty"`
	AfterLoad  *Memory           `json:"after_load,omitempty"`
	Fill       *FillResult       `json:"fill,omitempty"`
	ColdStarts []ColdStartResult `json:"cold_starts,omitempty"`
}

// Machine describes where the figures come from.
type Machine struct {
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model"`
	GoVersion  string `json:"go_version"`
	GOMAXPROCS int    `json:"gomaxprocs"`
}

// Settings are the load parameters.
type Settings struct {
	Conns         int     `json:"conns"`
	Seconds       float64 `json:"seconds"`
	WarmupSeconds float64 `json:"warmup_seconds"`
	Rounds        int     `json:"rounds"`
	// OtherCPU is the share of the machine's CPU time that processes
	// other than loadgen and the two servers used during the load: the
	// noise under the figures.
	OtherCPU float64 `json:"other_cpu"`
}

// ScenarioResult compares the real server with the bare ceiling, and
// with itself while recording is paused: the cost of recording.
type ScenarioResult struct {
	Name       string   `json:"name"`
	Server     Measure  `json:"server"`
	Ceiling    Measure  `json:"ceiling"`
	Unrecorded *Measure `json:"unrecorded,omitempty"`
	// Rounds are the server's rounds recording and paused, side by side:
	// how much the recording cost moved from one round to the next says
	// how far a run's figure can be trusted.
	Rounds []RoundPair `json:"rounds,omitempty"`
}

// RoundPair is what one round measured on the server recording and
// paused.
type RoundPair struct {
	Recording Round `json:"recording"`
	Paused    Round `json:"paused"`
}

// Round is one phase's requests and its time, waits included.
type Round struct {
	Requests int     `json:"requests"`
	Seconds  float64 `json:"seconds"`
}

// RecordingOverhead is how much fewer requests per second the server
// answers recording than paused, as a fraction; ok is false when the
// unrecorded run is missing.
func (r ScenarioResult) RecordingOverhead() (overhead float64, ok bool) {
	if r.Unrecorded == nil || r.Unrecorded.RPS == 0 {
		return 0, false
	}
	return slowdown(r.Server.RPS, r.Unrecorded.RPS), true
}

// slowdown is how much fewer requests per second recording answered
// than paused, as a fraction.
func slowdown(recordingRPS, pausedRPS float64) float64 { return 1 - recordingRPS/pausedRPS }

// recordingCost writes RecordingOverhead as a percentage, with its
// standard error when the rounds give one: "8.5 ± 0.9%".
func (r ScenarioResult) recordingCost() (text string, ok bool) {
	o, ok := r.RecordingOverhead()
	if !ok {
		return "", false
	}
	se, hasError := r.RecordingOverheadError()
	return costText(o, se, hasError), true
}

// costText writes a recording cost, with its standard error when it has
// one.
func costText(overhead, stderr float64, hasError bool) string {
	if hasError {
		return fmt.Sprintf("%.1f ± %.1f%%", 100*overhead, 100*stderr)
	}
	return fmt.Sprintf("%.1f%%", 100*overhead)
}

// RecordingOverheadError is the standard error of RecordingOverhead,
// estimated from the run's own rounds by the bootstrap: the overhead
// computed again over rounds drawn with replacement, many times, and the
// spread of those figures. Rounds are drawn as pairs, recording with the
// paused phase next to it, so that the machine's drift, which both saw,
// stays out of it. The draws are seeded: the same rounds give the same
// figure. ok is false with fewer than two rounds.
func (r ScenarioResult) RecordingOverheadError() (stderr float64, ok bool) {
	n := len(r.Rounds)
	if n < 2 {
		return 0, false
	}
	rng := rand.New(rand.NewPCG(uint64(n), bootstrapSeed))
	draws := make([]float64, bootstrapDraws)
	mean := 0.0
	for d := range draws {
		var rec, paused Round
		for range n {
			p := r.Rounds[rng.IntN(n)]
			rec.add(p.Recording)
			paused.add(p.Paused)
		}
		// A draw of rounds that measured nothing (failed phases) counts
		// as no cost rather than dividing by zero.
		if paused.Requests > 0 && rec.Seconds > 0 && paused.Seconds > 0 {
			draws[d] = slowdown(rec.rps(), paused.rps())
		}
		mean += draws[d] / bootstrapDraws
	}
	variance := 0.0
	for _, o := range draws {
		variance += (o - mean) * (o - mean) / (bootstrapDraws - 1)
	}
	return math.Sqrt(variance), true
}

// The bootstrap's draws: a thousand put the error's own error at about
// 2% of it.
const (
	bootstrapDraws = 1000
	bootstrapSeed  = 0x5eed
)

func (r *Round) add(o Round) {
	r.Requests += o.Requests
	r.Seconds += o.Seconds
}

func (r Round) rps() float64 { return float64(r.Requests) / r.Seconds }

// Measure is one measured phase.
type Measure struct {
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	RPS        float64 `json:"rps"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	// CPUusPerReq is the server process's CPU time per request.
	CPUusPerReq float64 `json:"server_cpu_us_per_req"`
	// ClientAllocsPerReq and ClientBytesPerReq are loadgen's own heap
	// allocations per request.
	ClientAllocsPerReq float64 `json:"client_allocs_per_req"`
	ClientBytesPerReq  float64 `json:"client_bytes_per_req"`
	RSSKB              int64   `json:"server_rss_kb"`
}

// Memory is a process's resident set: all of it, its anonymous part
// (Go heap, stacks, C allocations), its file-backed part (mapped files)
// and its peak.
type Memory struct {
	RSSKB  int64 `json:"rss_kb"`
	AnonKB int64 `json:"anon_kb"`
	FileKB int64 `json:"file_kb"`
	HWMKB  int64 `json:"hwm_kb"`
}

// FillResult is the resident set after the inspector has recorded many
// exchanges.
type FillResult struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	Seconds  float64 `json:"seconds"`
	Before   Memory  `json:"before"`
	After    Memory  `json:"after"`
	// Stored is how many exchanges the inspector holds after the fill,
	// -1 when the server does not say.
	Stored int `json:"stored"`
}

// ColdStartResult is the time from exec to the listening line.
type ColdStartResult struct {
	Mode string    `json:"mode"`
	Runs []float64 `json:"runs_ms"`
}

// measure turns a sample and the server's counters into a Measure.
func measure(s sample, cpu time.Duration, rssKB int64) Measure {
	m := Measure{Requests: s.requests, Errors: s.errors, FirstError: s.firstError,
		Seconds: s.elapsed.Seconds(), RSSKB: rssKB,
		P50us: micros(percentile(s.latencies, 0.50)), P99us: micros(percentile(s.latencies, 0.99))}
	if s.requests > 0 {
		n := float64(s.requests)
		m.RPS = n / s.elapsed.Seconds()
		m.CPUusPerReq = micros(cpu) / n
		m.ClientAllocsPerReq = float64(s.mallocs) / n
		m.ClientBytesPerReq = float64(s.allocBytes) / n
	}
	return m
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// thisMachine describes the machine loadgen runs on.
func thisMachine() *Machine {
	m := &Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(raw)) {
			if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				m.CPUModel = strings.TrimSpace(value)
				break
			}
		}
	}
	return m
}

// writeReport writes r as JSON to path; "" writes nothing.
func writeReport(path string, r *Report) error {
	if path == "" {
		return nil
	}
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}

// readReports reads and merges reports.
func readReports(paths []string) (*Report, error) {
	var all Report
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var r Report
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		all.merge(&r)
	}
	return &all, nil
}

// merge adds what r measured to all.
func (all *Report) merge(r *Report) {
	all.Machine = firstNonNil(r.Machine, all.Machine)
	all.Settings = firstNonNil(r.Settings, all.Settings)
	all.AfterLoad = firstNonNil(r.AfterLoad, all.AfterLoad)
	all.Fill = firstNonNil(r.Fill, all.Fill)
	all.Scenarios = append(all.Scenarios, r.Scenarios...)
	all.ColdStarts = append(all.ColdStarts, r.ColdStarts...)
}

// firstNonNil returns a unless it is nil, then b.
func firstNonNil[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}
