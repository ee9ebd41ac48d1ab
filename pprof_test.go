package main

import (
	"bytes"
	"strings"
	"testing"
)

// Profiles are for the developer at the machine: any other address is
// refused with a message that says what to give instead.
func TestServePprofOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:6060", "192.168.1.10:6060", ":6060", "nonsense"} {
		var stderr bytes.Buffer
		servePprof(addr, &stderr)
		if !strings.Contains(stderr.String(), "ignored") {
			t.Errorf("REGSANDBOX_PPROF=%s: stderr %q, want it ignored", addr, stderr.String())
		}
	}
	var stderr bytes.Buffer
	servePprof("127.0.0.1:0", &stderr)
	if !strings.Contains(stderr.String(), "profiles on http://127.0.0.1:") {
		t.Errorf("loopback address: stderr %q", stderr.String())
	}
}
