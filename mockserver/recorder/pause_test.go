package recorder

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// A paused recorder answers through and stores nothing; resumed, it
// records again, and what it held stays.
func TestPausedRecorderLetsCallsThroughUnrecorded(t *testing.T) {
	t.Parallel()
	r := New(openDB(t))
	t.Cleanup(func() { r.Close() })
	h := r.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"stat":"ok"}`)) }))
	call := func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth/x", nil))
		if rec.Body.String() != `{"stat":"ok"}` {
			t.Fatalf("answer = %q", rec.Body)
		}
	}
	call()
	r.SetPaused(true)
	call()
	call()
	if got := r.Count(); got != 1 || !r.Stats().Paused {
		t.Errorf("paused: %d stored, stats %+v; want 1 and paused", got, r.Stats())
	}
	r.SetPaused(false)
	call()
	if got := r.Count(); got != 2 || r.Stats().Paused {
		t.Errorf("resumed: %d stored, stats %+v; want 2", got, r.Stats())
	}
}
