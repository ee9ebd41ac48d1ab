package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// series builds one sample per value pair: goroutines and RSS in MiB.
func series(goroutines []int, rssMiB []int64) []soakPoint {
	points := make([]soakPoint, len(goroutines))
	for i := range goroutines {
		points[i] = soakPoint{at: time.Duration(i) * 5 * time.Second, goroutines: goroutines[i], rssKB: rssMiB[i] * 1024}
	}
	return points
}

// repeat is n copies of v.
func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// ramp is n values from first, step apart.
func ramp(first, step int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = first + int64(i)*step
	}
	return out
}

func TestJudgeFlatness(t *testing.T) {
	t.Parallel()
	// 18 samples: 6 of warm-up, baseline 6–9, end 14–17.
	warm := []int{10, 40, 45, 50, 50, 50}
	for _, tc := range []struct {
		name           string
		goroutines     []int
		rss            []int64
		wantG, wantRSS bool
	}{
		{"flat", repeat(50, 18), repeat[int64](200, 18), true, true},
		{"warm-up growth is ignored", append(warm, repeat(50, 12)...),
			append(ramp(40, 30, 6), repeat[int64](200, 12)...), true, true},
		{"goroutines within 10 + 10%", append(repeat(100, 10), repeat(120, 8)...), repeat[int64](200, 18), true, true},
		{"goroutines leak", append(repeat(100, 10), repeat(121, 8)...), repeat[int64](200, 18), false, true},
		{"steady goroutine leak", []int{50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200, 210, 220},
			repeat[int64](200, 18), false, true},
		{"small RSS: 50 MiB allowed", repeat(50, 18), append(repeat[int64](100, 10), repeat[int64](150, 8)...), true, true},
		{"small RSS over 50 MiB", repeat(50, 18), append(repeat[int64](100, 10), repeat[int64](151, 8)...), true, false},
		{"large RSS: 25% allowed", repeat(50, 18), append(repeat[int64](400, 10), repeat[int64](500, 8)...), true, true},
		{"large RSS over 25%", repeat(50, 18), append(repeat[int64](400, 10), repeat[int64](501, 8)...), true, false},
		{"RSS ramp", repeat(50, 18), ramp(100, 10, 18), true, false},
		{"shrinking is flat", repeat(50, 18), ramp(400, -10, 18), true, true},
		{"one outlier does not move the median", repeat(50, 18),
			append(repeat[int64](200, 16), 900, 200), true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := judgeFlatness(series(tc.goroutines, tc.rss))
			if len(c) != 2 || c[0].pass != tc.wantG || c[1].pass != tc.wantRSS {
				t.Errorf("judgeFlatness = %+v, want goroutines %v, RSS %v", c, tc.wantG, tc.wantRSS)
			}
		})
	}
}

func TestJudgeFlatnessTooFewSamples(t *testing.T) {
	t.Parallel()
	for n := range minSoakSamples {
		c := judgeFlatness(series(repeat(50, n), repeat[int64](100, n)))
		if len(c) != 2 || c[0].pass || c[1].pass || !strings.Contains(c[0].measured, "needed") {
			t.Errorf("%d samples: %+v, want two FAILs", n, c)
		}
	}
	if c := judgeFlatness(series(repeat(50, minSoakSamples), repeat[int64](100, minSoakSamples))); !c[0].pass || !c[1].pass {
		t.Errorf("%d samples: %+v, want PASS", minSoakSamples, c)
	}
}

func TestSoakWindows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n, base, final int // samples; first index of the baseline and of the end
		size           int
	}{
		{18, 6, 14, 4},
		{36, 12, 28, 8},
		{4, 1, 3, 1},
		{10, 3, 8, 2},
	} {
		points := series(repeat(0, tc.n), repeat[int64](0, tc.n))
		base, final := soakWindows(points)
		if len(base) != tc.size || len(final) != tc.size ||
			base[0].at != points[tc.base].at || final[0].at != points[tc.final].at || final[len(final)-1].at != points[tc.n-1].at {
			t.Errorf("%d samples: base %v, final %v", tc.n, base, final)
		}
	}
}

func TestErrorCriterion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		requests, errors int64
		pass             bool
	}{{100000, 0, true}, {100000, 100, true}, {100000, 101, false}, {0, 0, false}, {10, 1, false}} {
		if got := errorCriterion(tc.requests, tc.errors).pass; got != tc.pass {
			t.Errorf("errorCriterion(%d, %d) = %v, want %v", tc.requests, tc.errors, got, tc.pass)
		}
	}
}

func TestWithRecordLimit(t *testing.T) {
	t.Parallel()
	var ws map[string]json.RawMessage
	json.Unmarshal([]byte(`{"name":"w","capture":{"app_id":"a"},"settings":{"max_body_bytes":10,"record_limit":5}}`), &ws)
	raw, err := withRecordLimit(ws, 20000)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Name    string
		Capture struct {
			AppID string `json:"app_id"`
		}
		Settings map[string]int
	}
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Name != "w" || back.Capture.AppID != "a" || back.Settings["record_limit"] != 20000 || back.Settings["max_body_bytes"] != 10 {
		t.Errorf("withRecordLimit = %s", raw)
	}
	raw, _ = withRecordLimit(map[string]json.RawMessage{"settings": json.RawMessage("null")}, 7)
	if string(raw) != `{"settings":{"record_limit":7}}` {
		t.Errorf("without settings: %s", raw)
	}
}

func TestStringField(t *testing.T) {
	t.Parallel()
	if s, err := stringField([]byte(`{"status":2000,"data":"abc"}`), "data"); s != "abc" || err != nil {
		t.Errorf("data = %q, %v", s, err)
	}
	for _, body := range []string{`{"data":2}`, `{"data":""}`, `{}`, `not json`} {
		if _, err := stringField([]byte(body), "data"); err == nil {
			t.Errorf("%s: no error", body)
		}
	}
}

func TestRememberKeepsARing(t *testing.T) {
	t.Parallel()
	k := &soakWorker{}
	for i := range ringSize + 3 {
		k.remember(strings.Repeat("x", i+1))
	}
	if len(k.emails) != ringSize || len(k.emails[0]) != ringSize+1 || len(k.emails[3]) != 4 {
		t.Errorf("ring of %d, first %q, fourth %q", len(k.emails), k.emails[0], k.emails[3])
	}
}

func TestJudgeRSSPart(t *testing.T) {
	t.Parallel()
	// The mapped files grow by 300 MiB; the anonymous part stays flat.
	points := series(repeat(50, 18), ramp(200, 20, 18))
	for i := range points {
		points[i].anonKB = 100 * 1024
		points[i].fileKB = points[i].rssKB - points[i].anonKB
	}
	if c := judgeRSSPart(points, rssTotal); c[1].pass || c[1].name != "RSS flat" {
		t.Errorf("total: %+v, want RSS flat FAIL", c[1])
	}
	if c := judgeRSSPart(points, rssAnon); !c[1].pass || c[1].name != "RSS (anon) flat" {
		t.Errorf("anon: %+v, want RSS (anon) flat PASS", c[1])
	}
}
