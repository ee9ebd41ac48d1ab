package main

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// benchResult is one line of `go test -bench` output.
type benchResult struct {
	pkg     string
	name    string // without the -GOMAXPROCS suffix
	metrics map[string]float64
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
	idx := benchIndex{byKey: map[string]benchResult{}}
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if b, ok := parseBenchLine(pkg, line); ok {
			idx.list = append(idx.list, b)
			idx.byKey[b.pkg+"."+b.name] = b
		}
	}
	return idx, sc.Err()
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
