package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

// listeningLine starts the line regsandbox prints once it serves.
const listeningLine = "regsandbox listening http="

// coldStartModes are the storage modes whose start is timed.
var coldStartModes = []string{"in-memory", "fresh-data-dir"}

// runColdStart is `loadgen coldstart`: it starts the binary several times
// in each mode and times exec to the listening line.
func runColdStart(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen coldstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "bin/regsandbox", "the regsandbox binary")
	runs := fs.Int("runs", 5, "starts per mode")
	out := fs.String("out", "", "write the results as JSON to this file")
	if err := fs.Parse(args); err != nil || *runs < 1 || *runs > 100 {
		return errUsage
	}
	report := &Report{Machine: thisMachine()}
	for _, mode := range coldStartModes {
		r := ColdStartResult{Mode: mode}
		for range *runs {
			d, err := coldStart(*bin, mode)
			if err != nil {
				return fmt.Errorf("cold start (%s): %w", mode, err)
			}
			r.Runs = append(r.Runs, float64(d)/float64(time.Millisecond))
		}
		fmt.Fprintf(stdout, "cold start %-14s median %6.1f ms (min %.1f, max %.1f, %d runs)\n",
			mode, median(r.Runs), slices.Min(r.Runs), slices.Max(r.Runs), len(r.Runs))
		report.ColdStarts = append(report.ColdStarts, r)
	}
	return writeReport(*out, report)
}

// coldStart execs the binary headless on a free loopback port, returns
// the time until its listening line, then stops it.
func coldStart(bin, mode string) (time.Duration, error) {
	args := []string{"--headless", "--addr", loopbackHost + ":0", "--tls-addr", ""}
	if mode == "in-memory" {
		args = append(args, "--in-memory")
	} else {
		dir, err := os.MkdirTemp("", "regsandbox-coldstart-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		args = append(args, "--data", dir)
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	addr, err := readListening(stdout, listeningLine, 10*time.Second)
	elapsed := time.Since(start)
	stopErr := stopProcess(cmd)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%w; stderr: %s", err, stderr.Bytes())
	case checkLoopback(addr) != nil:
		return 0, checkLoopback(addr)
	}
	return elapsed, stopErr
}

// stopProcess asks the process to stop, as Ctrl-C would, and kills it
// if it has not stopped within five seconds.
func stopProcess(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not stop on SIGTERM", cmd.Path)
	}
}

// median of a non-empty list.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
