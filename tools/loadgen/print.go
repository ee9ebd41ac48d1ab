package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// printHeader prints the heading of the live table.
func printHeader(out io.Writer) {
	fmt.Fprintf(out, "%-12s %-8s %9s %9s %9s %7s %11s %11s %10s\n",
		"scenario", "target", "req/s", "p50", "p99", "errors", "srv CPU/req", "cli allocs", "srv RSS")
}

// printMeasure prints one row of the live table, and the first error.
func printMeasure(out io.Writer, name, target string, m Measure) {
	fmt.Fprintf(out, "%-12s %-8s %9.0f %9s %9s %7d %11s %11.1f %10s\n",
		name, target, m.RPS, ms(m.P50us), ms(m.P99us), m.Errors, us(m.CPUusPerReq), m.ClientAllocsPerReq, mib(m.RSSKB))
	if m.FirstError != "" {
		fmt.Fprintf(out, "  first error: %s\n", m.FirstError)
	}
}

// ms formats microseconds as milliseconds.
func ms(micros float64) string { return fmt.Sprintf("%.2fms", micros/1000) }

// us formats microseconds, or n/a for an unmeasured zero.
func us(micros float64) string {
	if micros == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0fµs", micros)
}

// recorderCounters looks for the recorder's counters (recorded, stored,
// dropped, pending, write_errors) anywhere in the admin health answer;
// it returns nil when the server reports none.
func recorderCounters(ctx context.Context, client *http.Client, base string) map[string]float64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/__admin/health", nil)
	if err != nil {
		return nil
	}
	var health any
	if doJSON(client, req, &health) != nil {
		return nil
	}
	found := map[string]float64{}
	collectCounters(health, found)
	if len(found) == 0 {
		return nil
	}
	return found
}

// counterNames are the recorder counters looked for.
var counterNames = map[string]bool{"recorded": true, "stored": true, "dropped": true, "pending": true, "write_errors": true}

// collectCounters walks decoded JSON and keeps the numeric counters.
func collectCounters(v any, found map[string]float64) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if n, ok := x.(float64); ok && counterNames[k] {
				found[k] = n
			}
			collectCounters(x, found)
		}
	case []any:
		for _, x := range v {
			collectCounters(x, found)
		}
	}
}
