package recorder

import (
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// sendN records n GETs of /n/<i> through a handler that answers 200.
func sendN(h http.Handler, n int) {
	for i := range n {
		call{method: "GET", path: fmt.Sprintf("/n/%d", i)}.send(h)
	}
}

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
}

func ids(t *testing.T, rec *Recorder) []string {
	t.Helper()
	var out []string
	q := Query{Limit: MaxPage}
	for {
		rows, next, err := rec.ListSummaries(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			out = append(out, r.ID)
		}
		if next == "" {
			return out
		}
		q.Before = next
	}
}

func TestRetentionByCount(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t, WithLimit(10))
	h := rec.Wrap(okHandler())
	sendN(h, 25)
	equal(t, "count", rec.Count(), 10)
	all := ids(t, rec)
	equal(t, "listed", len(all), 10)
	equal(t, "oldest kept", mustGet(t, rec, all[9], false).Path, "/n/15")

	rec.SetRetention(4, 0)
	equal(t, "count after lowering", rec.Count(), 4)
	equal(t, "oldest kept", mustGet(t, rec, ids(t, rec)[3], false).Path, "/n/21")
	equal(t, "stats", rec.Stats().Stored, 4)
}

func TestRetentionByAge(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	rec := newTestRecorder(t, WithClock(clock.Now), WithMaxAge(7*24*time.Hour))
	h := rec.Wrap(okHandler())
	sendN(h, 5)
	clock.Advance(6 * 24 * time.Hour)
	call{method: "GET", path: "/day6"}.send(h)
	equal(t, "count within a week", rec.Count(), 6)

	clock.Advance(2 * 24 * time.Hour) // the first five are 8 days old
	call{method: "GET", path: "/day8"}.send(h)
	equal(t, "count", rec.Count(), 2)
	equal(t, "oldest kept", mustGet(t, rec, ids(t, rec)[1], false).Path, "/day6")

	clock.Advance(time.Hour)
	rec.SetRetention(0, time.Hour) // a settings change trims at once
	equal(t, "count after shortening", rec.Count(), 0)
}

func TestCountSurvivesRestart(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	rec := New(db)
	sendN(rec.Wrap(okHandler()), 7)
	rec.Close()
	again := New(db, WithLimit(5))
	defer again.Close()
	equal(t, "count", again.Count(), 7)
	sendN(again.Wrap(okHandler()), 1)
	equal(t, "count after the next write trims", again.Count(), 5)
}

func TestPaging(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	sendN(rec.Wrap(okHandler()), 1000)
	for _, limit := range []int{0, 1, 77, 1000, 5000} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			t.Parallel()
			var got []string
			pages := 0
			q := Query{Limit: limit}
			for {
				page, err := rec.List(q)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				equal(t, "total", page.Total, 1000)
				for _, ex := range page.Exchanges {
					got = append(got, ex.ID)
				}
				if page.Next == "" {
					break
				}
				equal(t, "cursor is the last of the page", page.Next, got[len(got)-1])
				q.Before = page.Next
			}
			equal(t, "listed", len(got), 1000)
			if !slices.IsSortedFunc(got, func(a, b string) int { return -compareStrings(a, b) }) {
				t.Error("not newest first")
			}
			equal(t, "no repeats", len(slices.Compact(slices.Clone(got))), 1000)
			size := min(max(limit, 0), MaxPage)
			if limit == 0 {
				size = DefaultPage
			}
			equal(t, "pages", pages, (1000+size-1)/size)
			equal(t, "summaries agree", fmt.Sprint(ids(t, rec)), fmt.Sprint(got))
		})
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestFilters(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	b := newBackend()
	b.script("/oauth/register_native", `{"stat":"error","code":390,"error":"invalid_form_fields"}`)
	b.script("/oauth/custom-registration/ExampleId/init", `{"error":"invalid_client","error_description":"bad"}`)
	h := rec.Wrap(b.router)
	b.router.Use(TagEndpoint)
	for range 3 {
		call{path: "/oauth/register_native_traditional", contentType: formType, body: "firstName=Jane&client_secret=Needle-Secret"}.send(h)
	}
	call{path: "/oauth/register_native", contentType: formType, body: "firstName=Bob"}.send(h)
	call{path: "/oauth/custom-registration/ExampleId/init", contentType: "application/json", body: `{"data":"x"}`}.send(h)
	call{method: "GET", path: "/__admin/health", header: http.Header{"X-Trace": {"Marker-In-Header"}}}.send(h)

	cases := []struct {
		name string
		q    Query
		want int
	}{
		{"all", Query{}, 6},
		{"endpoint", Query{Endpoint: "capture.register_native_traditional"}, 3},
		{"endpoint prefix", Query{Endpoint: "capture.*"}, 4},
		{"endpoint none", Query{Endpoint: "capture.token"}, 0},
		{"status", Query{Status: 400}, 1},
		{"outcome error", Query{Outcome: OutcomeError}, 2},
		{"outcome ok", Query{Outcome: OutcomeOK}, 4},
		{"text in body, any case", Query{Text: "BOB"}, 1},
		{"text in URL", Query{Text: "custom-registration/exampleid"}, 1},
		{"text in header", Query{Text: "x-trace: marker"}, 1},
		{"text in header value", Query{Text: "marker-in"}, 1},
		{"text in answer", Query{Text: "invalid_form_fields"}, 1},
		{"text and endpoint", Query{Text: "jane", Endpoint: "capture.register_native"}, 0},
		{"text and status", Query{Text: "stat", Status: 200}, 5},
		{"masked secret is not found", Query{Text: "needle-secret"}, 0},
		{"revealed secret is found", Query{Text: "needle-secret", Reveal: true}, 3},
		{"the mask is found", Query{Text: "client_secret=***"}, 3},
		{"paged text", Query{Text: "jane", Limit: 2}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page, err := rec.List(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "matches", len(page.Exchanges), tc.want)
			rows, _, err := rec.ListSummaries(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "summary matches", len(rows), tc.want)
			for i, row := range rows {
				want := page.Exchanges[i].Summary()
				if !row.Time.Equal(want.Time) {
					t.Errorf("summary time %v, want %v", row.Time, want.Time)
				}
				row.Time = want.Time
				equal(t, "summary", row, want)
			}
		})
	}
}

func TestClear(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	sendN(rec.Wrap(okHandler()), 20)
	if err := rec.Clear(); err != nil {
		t.Fatal(err)
	}
	equal(t, "count", rec.Count(), 0)
	page, err := rec.List(Query{})
	equal(t, "listed", len(page.Exchanges), 0)
	equal(t, "error", err, nil)
	sendN(rec.Wrap(okHandler()), 2)
	equal(t, "count after", rec.Count(), 2)
}

func TestSubscribers(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	h := rec.Wrap(okHandler())
	_, cancelSlow := rec.Subscribe() // never read: must not hold anything up
	defer cancelSlow()
	events, cancel := rec.Subscribe()
	var received atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range events {
			received.Add(1)
		}
	}()
	const rounds, perRound = 8, 100 // more than the slow one's buffer
	for round := 1; round <= rounds; round++ {
		sendN(h, perRound)
		rec.Flush()
		deadline := time.Now().Add(5 * time.Second)
		for received.Load() < int64(round*perRound) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	equal(t, "count", rec.Count(), rounds*perRound)
	equal(t, "dropped", rec.Stats().Dropped, 0)
	cancel()
	cancel() // twice is fine
	<-done
	equal(t, "events of the reading subscriber", received.Load(), rounds*perRound)
}

func TestSubscriberEventsAreMasked(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	events, cancel := rec.Subscribe()
	defer cancel()
	call{path: "/oauth/token", contentType: formType, body: "code=" + authCode + "&password=" + pwNew,
		header: http.Header{"Authorization": {"Basic " + basicCreds}}}.send(rec.Wrap(okHandler()))
	select {
	case ex := <-events:
		s := toJSON(t, ex)
		for _, v := range []string{authCode, pwNew, basicCreds} {
			lacks(t, "event", s, v)
		}
		equal(t, "path", ex.Path, "/oauth/token")
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
}
