package main

import (
	"strings"
	"testing"
	"time"
)

func TestCheckLoopback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"127.0.0.1:0", false},
		{"localhost:8080", false},
		{"127.0.0.2:8080", false},
		{"[::1]:8080", false},
		{"10.0.2.2:8080", false},
		{"example.com:80", false},
		{":8080", false},
		{"127.0.0.1", false},
	} {
		if err := checkLoopback(tc.addr); (err == nil) != tc.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", tc.addr, err, tc.ok)
		}
	}
}

func TestDialControlRefusesOtherHosts(t *testing.T) {
	t.Parallel()
	if err := dialControl("tcp4", "127.0.0.1:80", nil); err != nil {
		t.Errorf("127.0.0.1 refused: %v", err)
	}
	if err := dialControl("tcp4", "192.0.2.1:80", nil); err == nil {
		t.Error("192.0.2.1 accepted")
	}
}

func TestParseBench(t *testing.T) {
	t.Parallel()
	out := `goos: linux
pkg: regsandbox/mockserver
BenchmarkServeBackchannel-2   	   33763	      8933 ns/op	   10720 B/op	      69 allocs/op
BenchmarkRecordingOverhead/flow/on-2   3459   113247 ns/op   0.25 dropped/op   92228 B/op   932 allocs/op
PASS
pkg: regsandbox/mockserver/script
BenchmarkRunQRComplete-2   1000000   2100 ns/op   1200 B/op   20 allocs/op
`
	idx, err := parseBench(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	b, ok := idx.get("regsandbox/mockserver", "BenchmarkServeBackchannel")
	if !ok || b.metrics["ns/op"] != 8933 || b.metrics["allocs/op"] != 69 {
		t.Errorf("backchannel = %+v, %v", b, ok)
	}
	b, ok = idx.get("regsandbox/mockserver", "BenchmarkRecordingOverhead/flow/on")
	if !ok || b.metrics["dropped/op"] != 0.25 {
		t.Errorf("flow/on = %+v, %v", b, ok)
	}
	if got := len(idx.withPrefix("regsandbox/mockserver/script", "BenchmarkRun")); got != 1 {
		t.Errorf("script benchmarks = %d, want 1", got)
	}
}

// Run with -count, a benchmark is judged on the median of its runs: one
// run slowed by something else on the machine does not decide a target.
func TestParseBenchTakesTheMedianOfRepeatedRuns(t *testing.T) {
	t.Parallel()
	out := `pkg: regsandbox/mockserver/script
BenchmarkRunQRBackchannel-2   100000   4000 ns/op   2200 B/op   24 allocs/op
BenchmarkRunQRComplete-2      100000   3000 ns/op   1600 B/op   24 allocs/op
BenchmarkRunQRBackchannel-2   100000   9000 ns/op   2200 B/op   24 allocs/op
BenchmarkRunQRComplete-2      100000   3100 ns/op   1600 B/op   24 allocs/op
BenchmarkRunQRBackchannel-2   100000   4200 ns/op   2200 B/op   25 allocs/op
`
	idx, err := parseBench(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := idx.get("regsandbox/mockserver/script", "BenchmarkRunQRBackchannel")
	if b.runs != 3 || b.metrics["ns/op"] != 4200 || b.metrics["allocs/op"] != 24 {
		t.Errorf("QR backchannel = %+v, want the median of 3 runs: 4200 ns/op, 24 allocs/op", b)
	}
	b, _ = idx.get("regsandbox/mockserver/script", "BenchmarkRunQRComplete")
	if b.runs != 2 || b.metrics["ns/op"] != 3050 {
		t.Errorf("QR complete = %+v, want the median of 2 runs: 3050 ns/op", b)
	}
	if got := len(idx.withPrefix("regsandbox/mockserver/script", "BenchmarkRun")); got != 2 {
		t.Errorf("script benchmarks = %d, want 2, one per name", got)
	}
	if v := scriptVerdict(idx); v.result != "PASS" || !strings.Contains(v.measured, "4.20 µs") {
		t.Errorf("script verdict = %+v, want PASS on the median 4.20 µs", v)
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		if got := percentile(lat, tc.q); got != tc.want {
			t.Errorf("percentile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", -12345: "-12,345"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
}

// The recording target is judged on the load test, the worst scenario
// deciding; the Go benchmarks are shown, not judged.
func TestRecordingVerdict(t *testing.T) {
	t.Parallel()
	m := func(rps float64) Measure { return Measure{Requests: 1000, RPS: rps} }
	u := func(rps float64) *Measure { x := m(rps); return &x }
	for _, tc := range []struct {
		scenarios []ScenarioResult
		result    string
		measured  string
	}{
		{[]ScenarioResult{{Name: "backchannel", Server: m(9500), Ceiling: m(12000), Unrecorded: u(10000)},
			{Name: "auth_native", Server: m(9200), Ceiling: m(12000), Unrecorded: u(10000)}},
			"PASS", "backchannel 5.0%, auth_native 8.0%"},
		{[]ScenarioResult{{Name: "backchannel", Server: m(9500), Ceiling: m(12000), Unrecorded: u(10000)},
			{Name: "auth_native", Server: m(8000), Ceiling: m(12000), Unrecorded: u(10000)}},
			"FAIL", "auth_native 20.0%"},
		{[]ScenarioResult{{Name: "backchannel", Server: m(9500), Ceiling: m(12000)}}, notMeasured, ""},
		{[]ScenarioResult{{Name: "backchannel", Server: Measure{Requests: 100, Errors: 50, RPS: 9000},
			Ceiling: m(12000), Unrecorded: u(10000)}}, "backchannel: server INVALID: 50 of 100 answers wrong", ""},
	} {
		v := recordingVerdict(&Report{Scenarios: tc.scenarios})
		if v.result != tc.result || !strings.Contains(v.measured, tc.measured) {
			t.Errorf("verdict = %+v, want %s with %q", v, tc.result, tc.measured)
		}
	}

	out := `pkg: regsandbox/mockserver
BenchmarkRecordingOverhead/backchannel/off-2  1000  10000 ns/op
BenchmarkRecordingOverhead/backchannel/on-2   1000  10500 ns/op
BenchmarkRecordingOverhead/flow/off-2  1000  10000 ns/op
BenchmarkRecordingOverhead/flow/on-2   1000  12000 ns/op
`
	idx, _ := parseBench(strings.NewReader(out))
	info := recordingCostInfo(idx)
	if info.result != "info" || !strings.Contains(info.measured, "flow +2.0 µs/call (+20%)") {
		t.Errorf("info = %+v", info)
	}
}

// steadyRounds are n rounds in which recording answers rec requests a
// second and paused ones paused, give or take noise (a fraction of paused,
// alternating in sign from round to round).
func steadyRounds(n int, rec, paused, noise float64) []RoundPair {
	rounds := make([]RoundPair, n)
	for i := range rounds {
		sign := float64(1 - 2*(i%2))
		rounds[i] = RoundPair{Recording: Round{Requests: int(rec), Seconds: 1},
			Paused: Round{Requests: int(paused * (1 + sign*noise)), Seconds: 1}}
	}
	return rounds
}

// The recording cost's error comes from how much it moves from round to
// round: none when every round says the same, more with noisier rounds,
// less with more of them (by the square root), and the same figure every
// time for the same rounds.
func TestRecordingOverheadError(t *testing.T) {
	t.Parallel()
	stderr := func(rounds []RoundPair) float64 {
		t.Helper()
		se, ok := ScenarioResult{Rounds: rounds}.RecordingOverheadError()
		if !ok {
			t.Fatalf("no error for %d rounds", len(rounds))
		}
		return se
	}
	if se := stderr(steadyRounds(80, 9000, 10000, 0)); se > 1e-9 {
		t.Errorf("identical rounds: error %.4f, want 0", se)
	}
	quiet, noisy := stderr(steadyRounds(80, 9000, 10000, 0.05)), stderr(steadyRounds(80, 9000, 10000, 0.20))
	if !(quiet > 0.001 && noisy > 3*quiet) {
		t.Errorf("errors %.4f (5%% noise) and %.4f (20%%): want the noisier about four times larger", quiet, noisy)
	}
	// Each round's cost is 0.1 ± ~0.045 here: the mean of 80 is off by
	// about 0.045/√80 = 0.005.
	if quiet < 0.003 || quiet > 0.008 {
		t.Errorf("error %.4f over 80 rounds of ±5%% noise, want about 0.005", quiet)
	}
	if more := stderr(steadyRounds(320, 9000, 10000, 0.05)); more < quiet/2.6 || more > quiet/1.5 {
		t.Errorf("error %.4f over 320 rounds against %.4f over 80, want about half", more, quiet)
	}
	if again := stderr(steadyRounds(80, 9000, 10000, 0.05)); again != quiet {
		t.Errorf("the same rounds gave %.6f, then %.6f", quiet, again)
	}
	if _, ok := (ScenarioResult{Rounds: steadyRounds(1, 9000, 10000, 0)}).RecordingOverheadError(); ok {
		t.Error("one round gave an error")
	}
}

// A figure within two standard errors of the line, pass or miss, says so.
func TestRecordingVerdictNamesAFigureNearTheLine(t *testing.T) {
	t.Parallel()
	scenario := func(name string, rounds []RoundPair) ScenarioResult {
		var rec, paused Round
		for _, r := range rounds {
			rec.add(r.Recording)
			paused.add(r.Paused)
		}
		return ScenarioResult{Name: name, Rounds: rounds,
			Server:     Measure{Requests: rec.Requests, Seconds: rec.Seconds, RPS: float64(rec.Requests) / rec.Seconds},
			Ceiling:    Measure{Requests: 1000, RPS: 20000},
			Unrecorded: &Measure{Requests: paused.Requests, Seconds: paused.Seconds, RPS: float64(paused.Requests) / paused.Seconds}}
	}
	clearPass := scenario("register", steadyRounds(80, 9700, 10000, 0.01))
	near := scenario("backchannel", steadyRounds(80, 9150, 10000, 0.20))
	v := recordingVerdict(&Report{Scenarios: []ScenarioResult{near, clearPass}})
	if v.result != "PASS" || !strings.Contains(v.measured, "within two standard errors of the line: backchannel)") ||
		!strings.Contains(v.measured, "register 3.0 ± 0.") {
		t.Errorf("verdict = %+v, want a PASS that names backchannel as near the line", v)
	}
	nearMiss := scenario("auth_native", steadyRounds(80, 8900, 10000, 0.20))
	v = recordingVerdict(&Report{Scenarios: []ScenarioResult{nearMiss, clearPass}})
	if v.result != "FAIL" || !strings.Contains(v.measured, "within two standard errors of the line: auth_native)") {
		t.Errorf("verdict = %+v, want a FAIL that names auth_native as near the line", v)
	}
	v = recordingVerdict(&Report{Scenarios: []ScenarioResult{clearPass}})
	if v.result != "PASS" || strings.Contains(v.measured, "within two") || !strings.Contains(v.measured, "(± one standard error") {
		t.Errorf("verdict = %+v, want a plain PASS", v)
	}
}

// Rounds are bounded by their length, not their number: a minute may be
// cut into 240 rounds of a quarter second, not into rounds shorter than
// minRound.
func TestLoadFlagsBoundRoundsByTheirLength(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"-d", "60s", "-rounds", "240"}, true},
		{[]string{"-d", "1s", "-rounds", "20"}, true},
		{[]string{"-d", "1s", "-rounds", "21"}, false},
		{[]string{"-d", "60s", "-rounds", "0"}, false},
	} {
		var stderr strings.Builder
		_, err := parseLoadFlags(append([]string{"-addr", "127.0.0.1:8080"}, tc.args...), &stderr)
		if (err == nil) != tc.ok {
			t.Errorf("%v: err %v (%s), want ok=%t", tc.args, err, stderr.String(), tc.ok)
		}
	}
}
