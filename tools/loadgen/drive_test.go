package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeRecordingServer answers the load with "fine" and the recorder's
// listing after drain, telling whether a call of the load arrived while a
// listing was being answered.
type fakeRecordingServer struct {
	drain      time.Duration
	status     int
	listing    atomic.Bool
	overlapped atomic.Bool
	listings   atomic.Int32
}

func (f *fakeRecordingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/__admin/requests" {
		f.listing.Store(true)
		defer f.listing.Store(false)
		f.listings.Add(1)
		time.Sleep(f.drain)
		w.WriteHeader(f.status)
		w.Write([]byte(`{"exchanges":[]}`))
		return
	}
	if f.listing.Load() {
		f.overlapped.Store(true)
	}
	w.Write([]byte("fine"))
}

// TestDriveCountsTheRecordersDrainInThePhase: the recording target's
// phase ends once the recorder has stored what the phase recorded, and
// that wait counts in the phase's time; a drain that fails is an error of
// the phase.
func TestDriveCountsTheRecordersDrainInThePhase(t *testing.T) {
	t.Parallel()
	const load, drain = 30 * time.Millisecond, 60 * time.Millisecond
	for _, tc := range []struct {
		name      string
		status    int
		wantError string
	}{
		{"drained", http.StatusOK, ""},
		{"refused", http.StatusInternalServerError, "waiting for the recorder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeRecordingServer{drain: drain, status: tc.status}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			client := newClient(2)
			m := measured{client: client, base: srv.URL, settle: recorderDrain(client, srv.URL)}
			sc := &scenario{name: "fake", method: http.MethodGet, path: "/", status: http.StatusOK, expect: []byte("fine")}
			o := m.drive(context.Background(), loadFlags{conns: 2, maxRequests: 1 << 20}, sc, load)
			if o.requests == 0 {
				t.Fatal("no request was sent")
			}
			// The phase's own clock starts a little after its deadline
			// is set; without the drain it would take about load.
			if o.elapsed < drain+load/2 {
				t.Errorf("the phase took %v: its load (%v) and the drain (%v) are more", o.elapsed, load, drain)
			}
			if n := fake.listings.Load(); n != 1 {
				t.Errorf("the recorder was drained %d times, want once", n)
			}
			if fake.overlapped.Load() {
				t.Error("the load went on while the recorder was drained")
			}
			if tc.wantError == "" && o.errors != 0 {
				t.Errorf("%d errors, the first: %s", o.errors, o.firstError)
			}
			if tc.wantError != "" && (o.errors != 1 || !strings.Contains(o.firstError, tc.wantError)) {
				t.Errorf("errors %d (%q), want one saying %q", o.errors, o.firstError, tc.wantError)
			}
		})
	}
}
