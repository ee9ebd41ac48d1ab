package recorder

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// wiring is how the recorder is put in front of the router.
var wirings = []struct {
	name string
	wire func(rec *Recorder, b *backend) http.Handler
}{
	{"around the router with TagEndpoint", func(rec *Recorder, b *backend) http.Handler {
		b.router.Use(TagEndpoint)
		return rec.Wrap(b.router)
	}},
	{"as router middleware", func(rec *Recorder, b *backend) http.Handler {
		b.router.Use(rec.Wrap)
		return b.router
	}},
}

func TestWrapRecordsExchange(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		call     call
		endpoint string
		status   int
		form     map[string]string
		json     string
	}{
		{"capture form", call{path: "/oauth/register_native_traditional?locale=en-US", contentType: formType,
			body: "client_id=abc&form=registrationForm&firstName=Jane"},
			"capture.register_native_traditional", 200,
			map[string]string{"client_id": "abc", "form": "registrationForm", "firstName": "Jane", "locale": "en-US"}, ""},
		{"onegini json", call{path: "/oauth/api/v3/custom-registration/QrCodeIdp/backchannel",
			contentType: "application/json", body: `{"data":"hello","n":12345678901234567890}`},
			"onegini.backchannel", 200, nil, `{"data":"hello","n":12345678901234567890}`},
		{"query only", call{path: "/oauth/auth_native?client_id=abc&token=t0123456789"},
			"capture.auth_native", 200, map[string]string{"client_id": "abc", "token": "t0123456789"}, ""},
		{"admin", call{method: "GET", path: "/__admin/health"}, "", 200, nil, ""},
	}
	for _, wiring := range wirings {
		for _, tc := range cases {
			t.Run(wiring.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				rec := newTestRecorder(t)
				h := wiring.wire(rec, newBackend())
				resp := tc.call.send(h)
				ex := mustGet(t, rec, newest(t, rec).ID, true)
				equal(t, "status", ex.Status, resp.Code)
				equal(t, "status", ex.Status, tc.status)
				equal(t, "endpoint", ex.Endpoint, tc.endpoint)
				equal(t, "URL", ex.URL, tc.call.path)
				equal(t, "path", ex.Path, strings.Split(tc.call.path, "?")[0])
				equal(t, "request body", ex.RequestBody, tc.call.body)
				equal(t, "response body", ex.ResponseBody, resp.Body.String())
				equal(t, "response content type", headerValue(ex.ResponseHeaders, "Content-Type"), "application/json;charset=UTF-8")
				equal(t, "outcome", ex.Outcome, OutcomeOK)
				equal(t, "flow", ex.FlowID, ex.ID)
				equal(t, "form fields", len(ex.Form), len(tc.form))
				for k, v := range tc.form {
					equal(t, "form "+k, fmt.Sprint(ex.Form[k]), "["+v+"]")
				}
				if tc.json != "" {
					equal(t, "json", toJSON(t, ex.JSON), tc.json)
				}
				if ex.DurationMS < 0 || ex.Time.IsZero() || len(ex.ID) != 20 {
					t.Errorf("timing: %v %v %q", ex.DurationMS, ex.Time, ex.ID)
				}
			})
		}
	}
}

func TestWrapTimesTheExchange(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	h := rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
	}))
	call{method: "GET", path: "/slow"}.send(h)
	ex := newest(t, rec)
	if ex.DurationMS < 5 {
		t.Errorf("DurationMS = %v, want >= 5", ex.DurationMS)
	}
	equal(t, "status of a handler that wrote nothing", ex.Status, 200)
}

// A replaced clock without monotonic readings times the exchange: the
// wall clock's shortcut (the monotonic reading alone) must not apply.
func TestWrapTimesWithTheReplacedClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	rec := newTestRecorder(t, WithClock(clock.Now))
	h := rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clock.Advance(30 * time.Millisecond)
	}))
	call{method: "GET", path: "/slow"}.send(h)
	ex := newest(t, rec)
	if ex.DurationMS < 30 || ex.DurationMS > 30.01 {
		t.Errorf("DurationMS = %v, want the 30 ms the clock moved", ex.DurationMS)
	}
}

// The server hands the recorder its clock, the wall clock by default: a
// start with a monotonic reading is timed by the monotonic clock alone,
// whatever the clock says later (here it jumps an hour).
func TestWrapTimesByTheMonotonicClock(t *testing.T) {
	t.Parallel()
	var shift atomic.Int64
	rec := newTestRecorder(t, WithClock(func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }))
	h := rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		shift.Store(int64(time.Hour))
	}))
	call{method: "GET", path: "/jump"}.send(h)
	if ms := newest(t, rec).DurationMS; ms < 0 || ms > 60_000 {
		t.Errorf("DurationMS = %v, want the few milliseconds that passed", ms)
	}
}

// TestBodyReachesHandler proves next reads the body the client sent,
// whole, however much of it the recorder keeps.
func TestBodyReachesHandler(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		size      int
		truncated bool
	}{
		{"empty", 0, false},
		{"small", 100, false},
		{"at the cap", 1024, false},
		{"over the cap", 5000, true},
		{"far over the cap", 300 << 10, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := newTestRecorder(t, WithMaxBody(1024))
			h := rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sum := sha256.New()
				n, _ := io.Copy(sum, r.Body)
				fmt.Fprintf(w, "%d %x", n, sum.Sum(nil))
			}))
			body := strings.Repeat("abcdefghij", tc.size/10+1)[:tc.size]
			resp := call{path: "/upload", contentType: "text/plain", body: body}.send(h)
			sum := sha256.Sum256([]byte(body))
			equal(t, "handler saw", resp.Body.String(), fmt.Sprintf("%d %s", tc.size, hex.EncodeToString(sum[:])))
			ex := newest(t, rec)
			equal(t, "truncated", ex.RequestTruncated, tc.truncated)
			equal(t, "recorded length", len(ex.RequestBody), min(tc.size, 1024))
			equal(t, "recorded prefix", ex.RequestBody, body[:min(tc.size, 1024)])
		})
	}
}

func TestResponseCap(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t, WithMaxBody(10))
	h := rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "0123456")
		io.WriteString(w, "789abc")
	}))
	resp := call{method: "GET", path: "/big"}.send(h)
	equal(t, "client got", resp.Body.String(), "0123456789abc")
	ex := newest(t, rec)
	equal(t, "recorded", ex.ResponseBody, "0123456789")
	equal(t, "truncated", ex.ResponseTruncated, true)
}

// TestHijackDrop is how fault injection drops a connection: through the
// recorder's writer, and recorded as dropped.
func TestHijackDrop(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	srv := httptest.NewServer(rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		conn.Close()
	})))
	defer srv.Close()
	_, err := http.Post(srv.URL+"/oauth/register_native", formType, strings.NewReader("a=b"))
	if err == nil {
		t.Fatal("the client got an answer from a dropped connection")
	}
	// The client may see the connection close before the handler returns.
	waitCount(t, rec, 1)
	ex := newest(t, rec)
	equal(t, "outcome", ex.Outcome, OutcomeDropped)
	equal(t, "status", ex.Status, 0)
	equal(t, "request body", ex.RequestBody, "a=b")
}

// TestFlushThrough proves streamed answers (server-sent events) still
// stream: the client reads the first event while the handler waits.
func TestFlushThrough(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	read := make(chan struct{})
	srv := httptest.NewServer(rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-read:
		case <-time.After(5 * time.Second):
			t.Error("the first event never reached the client")
		}
		io.WriteString(w, "data: two\n\n")
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/__admin/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	equal(t, "first line", line, "data: one\n")
	close(read)
	io.Copy(io.Discard, resp.Body)
	equal(t, "recorded body", newest(t, rec).ResponseBody, "data: one\n\ndata: two\n\n")
}

func TestPanicsAreRecordedAndGoOn(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		value   any
		outcome string
	}{
		{"panic", "boom", OutcomePanic},
		{"abort", http.ErrAbortHandler, OutcomeDropped},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := newTestRecorder(t)
			h := rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(tc.value) }))
			func() {
				defer func() {
					if v := recover(); v != tc.value {
						t.Errorf("recovered %v, want the handler's panic", v)
					}
				}()
				call{method: "GET", path: "/x"}.send(h)
			}()
			equal(t, "outcome", newest(t, rec).Outcome, tc.outcome)
		})
	}
}

func TestNotes(t *testing.T) {
	t.Parallel()
	if NotesFrom(context.Background()) != nil {
		t.Fatal("notes outside the recorder")
	}
	var none *Notes
	none.SetFault("x") // nil-safe
	none.SetDropped()
	none.SetScript(nil)
	none.SetEndpoint("x")

	rec := newTestRecorder(t)
	h := rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := NotesFrom(r.Context())
		n.SetEndpoint("onegini.complete")
		n.SetFault("rule-7")
		n.SetScript(&ScriptNote{Slot: "complete", IdP: "QrCodeIdp", Status: 5000, Cost: 42})
		w.WriteHeader(400)
	}))
	call{path: "/anything"}.send(h)
	ex := newest(t, rec)
	equal(t, "endpoint", ex.Endpoint, "onegini.complete")
	equal(t, "fault", ex.Fault, "rule-7")
	equal(t, "outcome", ex.Outcome, OutcomeFault)
	equal(t, "script", toJSON(t, ex.Script), `{"slot":"complete","idp":"QrCodeIdp","status":5000,"cost":42}`)
}

func TestOutcomeRule(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		endpoint string
		status   int
		body     string
		fault    string
		dropped  bool
		want     string
	}{
		{"capture ok", "capture.register_native", 200, `{"stat":"ok"}`, "", false, OutcomeOK},
		{"capture error is 200", "capture.register_native", 200, `{"stat":"error","code":390}`, "", false, OutcomeError},
		{"capture token 400", "capture.token", 400, `{"stat":"error"}`, "", false, OutcomeError},
		{"onegini error", "onegini.init", 400, `{"error":"invalid_client"}`, "", false, OutcomeError},
		{"onegini ok", "onegini.init", 200, `{"status":2000,"data":"x"}`, "", false, OutcomeOK},
		{"error member", "", 200, `{"error":"x"}`, "", false, OutcomeError},
		{"null error", "", 200, `{"error":null}`, "", false, OutcomeOK},
		{"unknown 404", "", 404, `{}`, "", false, OutcomeError},
		{"fault wins", "capture.token", 200, `{"stat":"ok"}`, "r1", true, OutcomeFault},
		{"dropped", "capture.token", 0, ``, "", true, OutcomeDropped},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ex := &Exchange{Endpoint: tc.endpoint, Status: tc.status, ResponseBody: tc.body, Fault: tc.fault}
			equal(t, "outcome", outcomeOf(ex, tc.dropped, false), tc.want)
		})
	}
}

// TestFullQueueNeverBlocks stalls the writer and proves requests still
// go through, the oldest waiting exchanges making room.
func TestFullQueueNeverBlocks(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t, WithQueue(4))
	h := rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	rec.storeMu.Lock() // the writer stalls on its next write
	call{method: "GET", path: "/r/0"}.send(h)
	time.Sleep(2 * linger) // the writer now waits for the lock
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i < 50; i++ {
			call{method: "GET", path: fmt.Sprintf("/r/%d", i)}.send(h)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("requests blocked on a stalled writer")
	}
	rec.storeMu.Unlock()
	n := rec.Count()
	st := rec.Stats()
	if st.Dropped == 0 || uint64(n)+st.Dropped != 50 {
		t.Fatalf("stored %d, dropped %d, want 50 together with some dropped", n, st.Dropped)
	}
	equal(t, "the newest is kept", newest(t, rec).Path, "/r/49")
}

func TestNestedWrapRecordsOnce(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	h := rec.Wrap(rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	call{method: "GET", path: "/once"}.send(h)
	equal(t, "count", rec.Count(), 1)
}

func TestSkipAndClose(t *testing.T) {
	t.Parallel()
	rec := New(openDB(t), WithSkip(func(r *http.Request) bool { return r.URL.Path == "/__admin/events" }))
	h := rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	call{method: "GET", path: "/__admin/events"}.send(h)
	call{method: "GET", path: "/kept"}.send(h)
	ch, _ := rec.Subscribe()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	drained := make(chan struct{})
	go func() {
		for range ch {
		}
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
		t.Error("subscription still open after Close")
	}
	call{method: "GET", path: "/after-close"}.send(h)
	equal(t, "count", rec.Count(), 1)
	if err := rec.Close(); err != nil {
		t.Error(errors.New("second Close failed"))
	}
}

func TestSkipAdmin(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{"/__admin": true, "/__admin/requests": true, "/__administrator": false,
		"/oauth/token": false} {
		equal(t, path, SkipAdmin(httptest.NewRequest("GET", path, nil)), want)
	}
}
