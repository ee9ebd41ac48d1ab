package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Packages and benchmarks that the targets read.
const (
	pkgMockserver      = "regsandbox/mockserver"
	pkgScript          = "regsandbox/mockserver/script"
	benchRecording     = "BenchmarkRecordingOverhead/"
	benchScriptPrefix  = "BenchmarkRun"
	maxErrorRate       = 0.01
	coldStartTargetMS  = 300
	fillTargetBytes    = 200e6
	fillTargetRequests = 100_000
)

// serverBench names, per scenario, the Go benchmark of the same call
// through srv.ServeHTTP, whose -benchmem figures are the server's
// allocations per request.
var serverBench = map[string]string{
	scenarioBackchannel: "BenchmarkServeBackchannel",
	scenarioRegister:    "BenchmarkServeRegisterTraditional",
	scenarioAuthNative:  "BenchmarkServeAuthNative310",
}

// verdict is one row of the targets table.
type verdict struct {
	target   string
	measured string
	result   string // PASS, FAIL, or why it was not judged
}

// pass turns a comparison into PASS or FAIL.
func pass(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// notMeasured is the result of a target with no figure.
const notMeasured = "not measured"

// verdicts judges every target of the issue against what was measured.
func verdicts(r *Report, benches benchIndex) []verdict {
	var out []verdict
	out = append(out, backchannelVerdicts(r)...)
	out = append(out, registrationVerdict(r), recordingVerdict(r), recordingCostInfo(benches), scriptVerdict(benches))
	out = append(out, coldStartVerdicts(r)...)
	return append(out, fillVerdict(r))
}

// scenario finds a scenario's results.
func (r *Report) scenario(name string) (ScenarioResult, bool) {
	for _, s := range r.Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return ScenarioResult{}, false
}

// invalid says why a measurement cannot be judged, or "".
func invalid(m Measure) string {
	switch {
	case m.Requests == 0:
		return "no requests completed"
	case float64(m.Errors) > maxErrorRate*float64(m.Requests):
		return fmt.Sprintf("INVALID: %d of %d answers wrong", m.Errors, m.Requests)
	}
	return ""
}

func backchannelVerdicts(r *Report) []verdict {
	conns := 32
	if r.Settings != nil {
		conns = r.Settings.Conns
	}
	rps := verdict{target: fmt.Sprintf("Backchannel (CEL script, recording on) ≥ 60%% of the bare ceiling's req/s at %d connections", conns), result: notMeasured}
	p99 := verdict{target: "Backchannel p99 ≤ 1.5× the bare ceiling's p99", result: notMeasured}
	s, ok := r.scenario(scenarioBackchannel)
	if !ok {
		return []verdict{rps, p99}
	}
	rps.measured = fmt.Sprintf("%.0f%% (%s vs %s req/s)", 100*s.Server.RPS/s.Ceiling.RPS, thousands(s.Server.RPS), thousands(s.Ceiling.RPS))
	rps.result = judged(s, s.Server.RPS >= 0.6*s.Ceiling.RPS)
	p99.measured = fmt.Sprintf("%.2f× (%s vs %s)", s.Server.P99us/s.Ceiling.P99us, ms(s.Server.P99us), ms(s.Ceiling.P99us))
	p99.result = judged(s, s.Server.P99us <= 1.5*s.Ceiling.P99us)
	return []verdict{rps, p99}
}

// judged is pass(ok) unless one of the measurements is invalid.
func judged(s ScenarioResult, ok bool) string {
	if why := scenarioInvalid(s); why != "" {
		return why
	}
	return pass(ok)
}

// scenarioInvalid says why either side of a comparison cannot be judged.
func scenarioInvalid(s ScenarioResult) string {
	if why := invalid(s.Server); why != "" {
		return "server " + why
	}
	if why := invalid(s.Ceiling); why != "" {
		return "ceiling " + why
	}
	return ""
}

func registrationVerdict(r *Report) verdict {
	v := verdict{target: "Registrations (salted password hash, synced Badger write) ≥ 1,000/s", result: notMeasured}
	s, ok := r.scenario(scenarioRegister)
	if !ok {
		return v
	}
	v.measured = thousands(s.Server.RPS) + "/s"
	v.result = pass(s.Server.RPS >= 1000)
	if why := invalid(s.Server); why != "" {
		v.result = why
	}
	return v
}

// recordingLimit is the recording overhead the target allows.
const recordingLimit = 0.10

// recordingVerdict compares, in each scenario of the load test, the
// server's req/s recording with its req/s while recording is paused, and
// keeps the worst: what recording costs the user's test run.
func recordingVerdict(r *Report) verdict {
	v := verdict{target: "Recording overhead < 10% (load test: the same server recording vs paused, req/s)", result: notMeasured}
	var parts, nearLine []string
	worst, why, withErrors := -1.0, "", false
	for _, s := range r.Scenarios {
		overhead, ok := s.RecordingOverhead()
		if !ok {
			continue
		}
		worst = max(worst, overhead)
		se, hasError := s.RecordingOverheadError()
		parts = append(parts, s.Name+" "+costText(overhead, se, hasError))
		if hasError {
			withErrors = true
			if math.Abs(overhead-recordingLimit) < 2*se {
				nearLine = append(nearLine, s.Name)
			}
		}
		if w := scenarioInvalid(s); w != "" && why == "" {
			why = s.Name + ": " + w
		} else if w := invalid(*s.Unrecorded); w != "" && why == "" {
			why = s.Name + " unrecorded " + w
		}
	}
	if worst > -1 {
		v.measured = strings.Join(parts, ", ")
		switch {
		case len(nearLine) > 0:
			// A pass or a miss this close to the line is one of this run,
			// not of the code: the next run may read the other way.
			v.measured += " (± one standard error over the rounds; within two standard errors of the line: " +
				strings.Join(nearLine, ", ") + ")"
		case withErrors:
			v.measured += " (± one standard error over the rounds)"
		}
		v.result = pass(worst < recordingLimit)
		if why != "" {
			v.result = why
		}
	}
	return v
}

// recordingCostInfo shows what recording costs a call in isolation: each
// BenchmarkRecordingOverhead/X/on against X/off, handlers served without
// a network from every CPU at once, the writer competing for them. A
// handler answers in microseconds there, so the figure is large; it is
// shown to follow the recorder's own cost, not judged.
func recordingCostInfo(benches benchIndex) verdict {
	v := verdict{target: "Recording cost in isolation (Go benchmarks: handlers without network, recorder on vs off; not a target)", result: "info"}
	var parts []string
	for _, on := range benches.withPrefix(pkgMockserver, benchRecording) {
		base, ok := strings.CutSuffix(on.name, "/on")
		if !ok {
			continue
		}
		off, ok := benches.get(pkgMockserver, base+"/off")
		if !ok || off.metrics["ns/op"] == 0 {
			continue
		}
		part := fmt.Sprintf("%s +%.1f µs/call (%+.0f%%)", strings.TrimPrefix(base, benchRecording),
			(on.metrics["ns/op"]-off.metrics["ns/op"])/1000, 100*(on.metrics["ns/op"]/off.metrics["ns/op"]-1))
		if dropped := on.metrics["dropped/op"]; dropped > 0 {
			// Dropped exchanges cost nothing: the figure is a floor.
			part += fmt.Sprintf(" (≥, %.0f%% dropped)", 100*dropped)
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		v.result = notMeasured
	}
	v.measured = strings.Join(parts, ", ")
	return v
}

// scriptVerdict takes the slowest of the script package's Run benchmarks
// (the default workspace's scripts).
func scriptVerdict(benches benchIndex) verdict {
	v := verdict{target: "Script evaluation < 5 µs (default scripts)", result: notMeasured}
	runs := benches.withPrefix(pkgScript, benchScriptPrefix)
	if len(runs) == 0 {
		return v
	}
	slowest := slices.MaxFunc(runs, func(a, b benchResult) int {
		return int(a.metrics["ns/op"] - b.metrics["ns/op"])
	})
	v.measured = fmt.Sprintf("slowest %.2f µs (%s)", slowest.metrics["ns/op"]/1000, strings.TrimPrefix(slowest.name, "Benchmark"))
	v.result = pass(slowest.metrics["ns/op"] < 5000)
	return v
}

func coldStartVerdicts(r *Report) []verdict {
	var out []verdict
	for _, mode := range coldStartModes {
		v := verdict{target: fmt.Sprintf("Cold start to serving < %d ms, headless, %s", coldStartTargetMS, mode), result: notMeasured}
		for _, c := range r.ColdStarts {
			if c.Mode == mode && len(c.Runs) > 0 {
				m := median(c.Runs)
				v.measured = fmt.Sprintf("median %.0f ms (max %.0f, %d runs)", m, slices.Max(c.Runs), len(c.Runs))
				v.result = pass(m < coldStartTargetMS)
			}
		}
		out = append(out, v)
	}
	return out
}

func fillVerdict(r *Report) verdict {
	v := verdict{target: "Server RSS after 100,000 recorded exchanges < 200 MB", result: notMeasured}
	f := r.Fill
	if f == nil || f.After.RSSKB == 0 {
		return v
	}
	rss := float64(f.After.RSSKB) * 1024
	v.measured = fmt.Sprintf("%.0f MB (peak %.0f MB) after %s requests", rss/1e6, float64(f.After.HWMKB)*1024/1e6,
		thousands(float64(f.Requests)))
	if f.Stored >= 0 {
		v.measured += fmt.Sprintf(", %s exchanges stored", thousands(float64(f.Stored)))
	}
	recorded := f.Stored
	if recorded < 0 {
		recorded = f.Requests
	}
	switch {
	case float64(f.Errors) > maxErrorRate*float64(f.Requests):
		v.result = fmt.Sprintf("INVALID: %d of %d answers wrong", f.Errors, f.Requests)
	case recorded < fillTargetRequests:
		v.result = fmt.Sprintf("INVALID: only %s exchanges recorded", thousands(float64(recorded)))
	default:
		v.result = pass(rss < fillTargetBytes)
	}
	return v
}

// thousands formats a count with thousands separators.
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
