package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat; it
// is 100 on every Linux that Go supports.
const clockTicks = 100

// procStat is what Linux tells about a process: its memory and the CPU
// time it has used.
type procStat struct {
	rssKB  int64 // VmRSS: resident now
	anonKB int64 // RssAnon: of which the heap and other private memory
	fileKB int64 // RssFile: of which mapped files (Badger's tables)
	hwmKB  int64 // VmHWM: the most ever resident
	cpu    time.Duration
}

// readProc reads /proc/PID/status and /proc/PID/stat.
func readProc(pid int) (procStat, error) {
	var p procStat
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), ":")
		switch name {
		case "VmRSS":
			p.rssKB = kilobytes(value)
		case "RssAnon":
			p.anonKB = kilobytes(value)
		case "RssFile":
			p.fileKB = kilobytes(value)
		case "VmHWM":
			p.hwmKB = kilobytes(value)
		}
	}
	p.cpu, err = cpuTime(pid)
	return p, err
}

// kilobytes parses a /proc/PID/status value such as "  12345 kB".
func kilobytes(value string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
	return n
}

// cpuTime is the user plus system time the process has used.
func cpuTime(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: the fields that follow start
	// after its closing parenthesis, with the state (field 3).
	i := bytes.LastIndexByte(raw, ')')
	fields := strings.Fields(string(raw[i+1:]))
	if i < 0 || len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(fields[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// memory is the resident set part of p.
func (p procStat) memory() Memory {
	return Memory{RSSKB: p.rssKB, AnonKB: p.anonKB, FileKB: p.fileKB, HWMKB: p.hwmKB}
}

// watcher reads a process's counters, or nothing when there is no pid.
type watcher struct{ pid int }

// read returns the counters, zero when they cannot be read.
func (w watcher) read() procStat {
	if w.pid <= 0 {
		return procStat{}
	}
	p, _ := readProc(w.pid)
	return p
}
