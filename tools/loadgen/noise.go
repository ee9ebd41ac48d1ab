package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// noise measures how much CPU time processes other than ours take while
// the load runs: other builds and tests on a shared machine distort the
// figures, and the summary says by how much.
type noise struct {
	pids       []int // ours: loadgen itself and the servers
	busy, all  time.Duration
	ourCPUTime time.Duration
}

// startNoise takes the first reading; pids are the servers' processes.
func startNoise(pids ...int) *noise {
	n := &noise{pids: append([]int{os.Getpid()}, pids...)}
	n.busy, n.all = machineCPU()
	n.ourCPUTime = n.ours()
	return n
}

// share is the fraction of all CPU time since startNoise that other
// processes used.
func (n *noise) share() float64 {
	busy, all := machineCPU()
	if all <= n.all {
		return 0
	}
	other := (busy - n.busy) - (n.ours() - n.ourCPUTime)
	return max(0, float64(other)/float64(all-n.all))
}

// ours adds up the CPU time of our processes.
func (n *noise) ours() time.Duration {
	var sum time.Duration
	for _, pid := range n.pids {
		if pid > 0 {
			d, _ := cpuTime(pid)
			sum += d
		}
	}
	return sum
}

// machineCPU reads the busy and total CPU time of every CPU together
// from the first line of /proc/stat. Busy is user, nice, system and
// steal time; interrupt time is left out, as it is mostly our own loopback
// traffic and no process is charged for it.
func machineCPU() (busy, all time.Duration) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, 0
	}
	// user nice system idle iowait irq softirq steal (guest times are
	// already in user and nice).
	var v [8]int64
	for i := range v {
		v[i], _ = strconv.ParseInt(fields[i+1], 10, 64)
	}
	tick := time.Second / clockTicks
	total := v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7]
	return time.Duration(v[0]+v[1]+v[2]+v[7]) * tick, time.Duration(total) * tick
}
