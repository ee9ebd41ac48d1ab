package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// printHeader prints the heading of the live table.
func printHeader(out io.Writer) {
	fmt.Fprintf(out, "%-12s %-10s %9s %9s %9s %7s %11s %11s %10s\n",
		"scenario", "target", "req/s", "p50", "p99", "errors", "srv CPU/req", "cli allocs", "srv RSS")
}

// printMeasure prints one row of the live table, and the first error.
func printMeasure(out io.Writer, name, target string, m Measure) {
	fmt.Fprintf(out, "%-12s %-10s %9.0f %9s %9s %7d %11s %11.1f %10s\n",
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

// storedExchanges asks the admin API how many exchanges the inspector
// holds (the "total" of GET /__admin/requests); -1 when it cannot tell.
func storedExchanges(ctx context.Context, client *http.Client, base string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/__admin/requests?limit=1", nil)
	if err != nil {
		return -1
	}
	var page struct {
		Total *int `json:"total"`
	}
	if doJSON(client, req, &page) != nil || page.Total == nil {
		return -1
	}
	return *page.Total
}
