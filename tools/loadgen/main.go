// Command loadgen is RegSandbox's load generator. It drives a headless
// regsandbox on 127.0.0.1 with the seed calls (the Onegini backchannel,
// the Capture traditional registration and Capture auth_native), runs
// the same load against a bare net/http server that answers the very
// bytes the real server answered (the ceiling), and reports requests/s,
// p50/p99 latency, the server's CPU time and memory, the client's
// allocations and PASS/FAIL against the performance targets of the issue.
//
// Usage:
//
//	loadgen load -addr 127.0.0.1:PORT [-pid PID] [-c 32] [-d 5s] [-warmup 1s] [-out load.json]
//	loadgen load -addr 127.0.0.1:PORT [-pid PID] -fill 100000 [-out fill.json]
//	loadgen coldstart -bin bin/regsandbox [-runs 5] [-out coldstart.json]
//	loadgen summary [-bench bench.txt] RESULT.json...
//	loadgen soak -addr 127.0.0.1:PORT -pid PID [-d 3m] [-c 16] [-sample 5s] [-record-limit 20000]
//
// load measures the scenarios (or, with -fill N, sends N cheap requests so
// that the server records N exchanges, then reads its resident set);
// coldstart times exec to the listening line; summary turns the JSON
// results and the output of `go test -bench` into the markdown tables of
// the README; soak holds mixed traffic (Capture registrations, sign-ins,
// /entity, social sign-ins and registrations, the Onegini backchannel and
// QR flow, flow documents and client errors) for minutes while it samples
// the server's goroutines and resident set, and judges whether they stayed
// flat. Every loop is bounded in time and in count.
//
// Only 127.0.0.1 is ever contacted: any other target is refused, and the
// dialer checks every connection again.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// usage is printed for a missing or unknown subcommand.
const usage = `usage: loadgen load|coldstart|summary|soak [flags]  (loadgen CMD -h lists the flags)`

// run dispatches to a subcommand and returns the exit code: 0 on success,
// 1 when the measurement could not be made, 2 on bad usage, 3 when a soak
// missed a criterion. A missed performance target of load is a result,
// not a failure.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "load":
		err = runLoad(args[1:], stdout, stderr)
	case "coldstart":
		err = runColdStart(args[1:], stdout, stderr)
	case "summary":
		err = runSummary(args[1:], stdout, stderr)
	case "soak":
		err = runSoak(args[1:], stdout, stderr)
	case ceilingCommand:
		err = serveCeiling(stdin, stdout)
	default:
		fmt.Fprintln(stderr, usage)
		return 2
	}
	if err == errUsage {
		return 2
	}
	if errors.Is(err, errSoakFailed) {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 3
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	return 0
}
