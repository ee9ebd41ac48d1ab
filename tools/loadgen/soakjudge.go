package main

import (
	"fmt"
	"io"
	"time"
)

// Limits of the soak's judgement.
const (
	// goroutineSlack and goroutineGrowth: the median goroutine count of
	// the last window may exceed the first window's by 10 + 10 %.
	goroutineSlack  = 10
	goroutineGrowth = 0.10
	// rssGrowth and rssSlackKB: the median resident set of the last
	// window may exceed the first window's by 25 % or 50 MiB, whichever
	// is larger.
	rssGrowth  = 0.25
	rssSlackKB = 50 * 1024
	// maxSoakErrorRate is the share of unexpected answers tolerated.
	maxSoakErrorRate = 0.001
	// minSoakSamples is the fewest samples that leave both compared
	// windows non-empty.
	minSoakSamples = 4
)

// soakPoint is one sample of the server during the soak.
type soakPoint struct {
	at         time.Duration // since the load started
	rssKB      int64
	anonKB     int64 // of rssKB: the Go heap, stacks and other private memory
	fileKB     int64 // of rssKB: mapped files (the binary, Badger's files)
	goroutines int
	heapBytes  uint64
}

// criterion is one PASS/FAIL line of the soak's verdict.
type criterion struct {
	name     string
	measured string
	pass     bool
}

// soakWindows splits the samples for the judgement: the first third is
// warm-up and ignored; of the rest, the first third (the baseline) is
// compared with the last third. Both are empty with fewer than
// minSoakSamples samples.
func soakWindows(points []soakPoint) (base, final []soakPoint) {
	rest := points[len(points)/3:]
	k := len(rest) / 3
	return rest[:k], rest[len(rest)-k:]
}

// judgeFlatness judges whether goroutines and the resident set stayed
// flat: the median of the last window against the baseline's.
func judgeFlatness(points []soakPoint) []criterion {
	base, final := soakWindows(points)
	if len(base) == 0 {
		msg := fmt.Sprintf("%d samples, at least %d needed", len(points), minSoakSamples)
		return []criterion{{"goroutines flat", msg, false}, {"RSS flat", msg, false}}
	}
	goroutines := func(p soakPoint) float64 { return float64(p.goroutines) }
	rss := func(p soakPoint) float64 { return float64(p.rssKB) }
	g0, g1 := medianOf(base, goroutines), medianOf(final, goroutines)
	r0, r1 := medianOf(base, rss), medianOf(final, rss)
	gAllowed := goroutineSlack + goroutineGrowth*g0
	rAllowed := max(rssGrowth*r0, rssSlackKB)
	return []criterion{
		{"goroutines flat", fmt.Sprintf("median %.0f → %.0f (%+.0f, allowed +%.0f)", g0, g1, g1-g0, gAllowed), g1-g0 <= gAllowed},
		{"RSS flat", fmt.Sprintf("median %s → %s (%+.1f MiB, allowed +%.1f MiB)",
			mib(int64(r0)), mib(int64(r1)), (r1-r0)/1024, rAllowed/1024), r1-r0 <= rAllowed},
	}
}

// trend describes, in MiB, how the medians of a value in kilobytes moved
// between the compared windows; it is information, not a criterion.
func trend(points []soakPoint, kb func(soakPoint) float64) string {
	base, final := soakWindows(points)
	if len(base) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("median %s → %s", mib(int64(medianOf(base, kb))), mib(int64(medianOf(final, kb))))
}

// errorCriterion judges the share of unexpected answers.
func errorCriterion(requests, errors int64) criterion {
	rate := 0.0
	if requests > 0 {
		rate = float64(errors) / float64(requests)
	}
	return criterion{"unexpected answers ≤ 0.1%",
		fmt.Sprintf("%d of %d (%.3f%%)", errors, requests, 100*rate),
		requests > 0 && rate <= maxSoakErrorRate}
}

// samplesCriterion requires every sample to have been read.
func samplesCriterion(taken, failed int) criterion {
	return criterion{"every sample read", fmt.Sprintf("%d read, %d failed", taken, failed),
		failed == 0 && taken >= minSoakSamples}
}

// printCriteria prints one PASS/FAIL line per criterion and reports
// whether all passed.
func printCriteria(out io.Writer, criteria []criterion) bool {
	ok := true
	for _, c := range criteria {
		fmt.Fprintf(out, "%-4s  %-26s %s\n", pass(c.pass), c.name, c.measured)
		ok = ok && c.pass
	}
	return ok
}

// medianOf is the median of a value of non-empty points.
func medianOf(points []soakPoint, value func(soakPoint) float64) float64 {
	xs := make([]float64, len(points))
	for i, p := range points {
		xs[i] = value(p)
	}
	return median(xs)
}
