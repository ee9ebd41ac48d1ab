package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// runSummary is `loadgen summary`: the markdown tables for the README.
func runSummary(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	benchFile := fs.String("bench", "", "output of go test -bench -benchmem")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	report, err := readReports(fs.Args())
	if err != nil {
		return err
	}
	var benches benchIndex
	if *benchFile != "" {
		f, err := os.Open(*benchFile)
		if err != nil {
			return err
		}
		defer f.Close()
		if benches, err = parseBench(f); err != nil {
			return err
		}
	}
	writeSummary(stdout, report, benches)
	return nil
}

// writeSummary prints every table.
func writeSummary(w io.Writer, r *Report, benches benchIndex) {
	writeMachine(w, r)
	writeTargets(w, r, benches)
	writeLoad(w, r, benches)
	writeMemory(w, r)
	writeBenches(w, benches)
}

func writeMachine(w io.Writer, r *Report) {
	if m := r.Machine; m != nil {
		fmt.Fprintf(w, "Machine: %d CPUs (%s), %s, GOMAXPROCS %d; generator and server on the same machine, loopback.\n\n",
			m.CPUs, m.CPUModel, m.GoVersion, m.GOMAXPROCS)
	}
}

func writeTargets(w io.Writer, r *Report, benches benchIndex) {
	fmt.Fprintln(w, "| target | measured | result |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, v := range verdicts(r, benches) {
		fmt.Fprintf(w, "| %s | %s | **%s** |\n", v.target, cell(v.measured), v.result)
	}
	fmt.Fprintln(w)
}

func writeLoad(w io.Writer, r *Report, benches benchIndex) {
	if len(r.Scenarios) == 0 {
		return
	}
	if s := r.Settings; s != nil {
		fmt.Fprintf(w, "Load: %d keep-alive HTTP/1.1 connections; per scenario, %.0f s of warm-up on each target, then %.0f s "+
			"on each in %d rounds that visit the targets in turn. The ceiling is a bare net/http server, in its own process, answering the "+
			"server's bytes and headers; \"paused\" is the same server with recording paused (PUT /__admin/recording). Each recording round ends "+
			"once the recorder has stored what it recorded, and that wait counts in the round. Other processes used %.0f%% of the CPUs meanwhile.\n\n",
			s.Conns, s.WarmupSeconds, s.Seconds, s.Rounds, 100*s.OtherCPU)
	}
	fmt.Fprintln(w, "| scenario | req/s | p50 | p99 | ceiling req/s | ceiling p99 | ratio | paused req/s | recording cost | server CPU/req (paused) | server allocs/op (B/op) | client allocs/req | errors |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range r.Scenarios {
		paused, cost, pausedCPU := "n/a", "n/a", "n/a"
		if c, ok := s.recordingCost(); ok {
			paused, cost, pausedCPU = thousands(s.Unrecorded.RPS), c, us(s.Unrecorded.CPUusPerReq)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %.0f%% | %s | %s | %s (%s) | %s | %.0f | %d |\n",
			s.Name, thousands(s.Server.RPS), ms(s.Server.P50us), ms(s.Server.P99us),
			thousands(s.Ceiling.RPS), ms(s.Ceiling.P99us), 100*s.Server.RPS/s.Ceiling.RPS, paused, cost,
			us(s.Server.CPUusPerReq), pausedCPU, serverAllocs(benches, s.Name), s.Server.ClientAllocsPerReq, s.Server.Errors)
	}
	fmt.Fprintln(w)
}

// serverAllocs is the -benchmem figure of the scenario's Go benchmark.
func serverAllocs(benches benchIndex, scenario string) string {
	b, ok := benches.get(pkgMockserver, serverBench[scenario])
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.0f (%s)", b.metrics["allocs/op"], thousands(b.metrics["B/op"]))
}

func writeMemory(w io.Writer, r *Report) {
	if r.AfterLoad == nil && r.Fill == nil {
		return
	}
	fmt.Fprintln(w, "| server memory | RSS | anonymous (heap) | mapped files | peak RSS |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	if m := r.AfterLoad; m != nil {
		writeMemoryRow(w, "after the load scenarios", *m)
	}
	if f := r.Fill; f != nil {
		writeMemoryRow(w, "fresh server, before the fill", f.Before)
		writeMemoryRow(w, fmt.Sprintf("after the fill (%s requests)", thousands(float64(f.Requests))), f.After)
	}
	fmt.Fprintln(w)
}

func writeMemoryRow(w io.Writer, what string, m Memory) {
	fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", what, mib(m.RSSKB), mib(m.AnonKB), mib(m.FileKB), mib(m.HWMKB))
}

// writeBenches lists the Go benchmarks, package by package.
func writeBenches(w io.Writer, benches benchIndex) {
	if len(benches.list) == 0 {
		return
	}
	if runs := benches.list[0].runs; runs > 1 {
		fmt.Fprintf(w, "Each figure is the median of %d runs.\n\n", runs)
	}
	fmt.Fprintln(w, "| package | benchmark | ns/op | B/op | allocs/op | other |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---|")
	for _, b := range benches.list {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", strings.TrimPrefix(b.pkg, "regsandbox/"),
			strings.TrimPrefix(b.name, "Benchmark"), thousands(b.metrics["ns/op"]),
			thousands(b.metrics["B/op"]), thousands(b.metrics["allocs/op"]), otherMetrics(b))
	}
	fmt.Fprintln(w)
}

// otherMetrics lists the custom metrics of a benchmark.
func otherMetrics(b benchResult) string {
	var parts []string
	for unit, v := range b.metrics {
		switch unit {
		case "ns/op", "B/op", "allocs/op":
		default:
			parts = append(parts, fmt.Sprintf("%.3g %s", v, unit))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// cell keeps a table cell non-empty.
func cell(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
