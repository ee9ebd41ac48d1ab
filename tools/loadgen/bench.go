package main

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// benchResult is one benchmark of `go test -bench` output. Run with
// -count, a benchmark has several lines; its metrics are then the median
// of each over the runs, which one disturbed run cannot move.
type benchResult struct {
	pkg     string
	name    string // without the -GOMAXPROCS suffix
	metrics map[string]float64
	runs    int
}

// benchIndex finds a benchmark by "pkg.Name".
type benchIndex struct {
	list  []benchResult
	byKey map[string]benchResult
}

// procsSuffix is the -GOMAXPROCS suffix of a benchmark name.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBench reads `go test -bench` output: "pkg:" lines and benchmark
// lines made of a name, an iteration count and value–unit pairs.
func parseBench(r io.Reader) (benchIndex, error) {
	var order []string
	runs := map[string][]benchResult{}
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if b, ok := parseBenchLine(pkg, line); ok {
			key := b.pkg + "." + b.name
			if runs[key] == nil {
				order = append(order, key)
			}
			runs[key] = append(runs[key], b)
		}
	}
	idx := benchIndex{byKey: map[string]benchResult{}}
	for _, key := range order {
		b := medianRun(runs[key])
		idx.list = append(idx.list, b)
		idx.byKey[key] = b
	}
	return idx, sc.Err()
}

// medianRun folds the runs of one benchmark into one result holding the
// median of each metric.
func medianRun(runs []benchResult) benchResult {
	out := benchResult{pkg: runs[0].pkg, name: runs[0].name, metrics: map[string]float64{}, runs: len(runs)}
	for unit := range runs[0].metrics {
		var xs []float64
		for _, r := range runs {
			if v, ok := r.metrics[unit]; ok {
				xs = append(xs, v)
			}
		}
		out.metrics[unit] = median(xs)
	}
	return out
}

// parseBenchLine parses "BenchmarkX-2  1000  123 ns/op  45 B/op  6 allocs/op".
func parseBenchLine(pkg, line string) (benchResult, bool) {
	fields := strings.Fields(line)
	if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
		return benchResult{}, false
	}
	if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
		return benchResult{}, false
	}
	b := benchResult{pkg: pkg, name: procsSuffix.ReplaceAllString(fields[0], ""), metrics: map[string]float64{}}
	for i := 2; i+1 < len(fields); i += 2 {
		if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
			b.metrics[fields[i+1]] = v
		}
	}
	return b, len(b.metrics) > 0
}

// get returns the benchmark pkg.name.
func (idx benchIndex) get(pkg, name string) (benchResult, bool) {
	b, ok := idx.byKey[pkg+"."+name]
	return b, ok
}

// withPrefix returns the benchmarks of pkg whose name starts with prefix.
func (idx benchIndex) withPrefix(pkg, prefix string) []benchResult {
	var out []benchResult
	for _, b := range idx.list {
		if b.pkg == pkg && strings.HasPrefix(b.name, prefix) {
			out = append(out, b)
		}
	}
	return out
}
