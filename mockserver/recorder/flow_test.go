package recorder

import (
	"fmt"
	"hash/maphash"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// journeyStep is one call of a journey and the flow it must land in:
// steps with the same flow label share a FlowID, different labels differ.
type journeyStep struct {
	call   call
	answer string
	flow   string
}

func runJourney(t *testing.T, rec *Recorder, steps []journeyStep, between func(i int)) {
	t.Helper()
	b := newBackend()
	h := rec.Wrap(b.router)
	b.router.Use(TagEndpoint)
	for i, s := range steps {
		if between != nil {
			between(i)
		}
		if s.answer != "" {
			b.queue(s.call.path, s.answer)
		}
		s.call.send(h)
	}
	all, err := rec.List(Query{Limit: MaxPage})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "recorded", len(all.Exchanges), len(steps))
	flowOf := map[string]string{} // label → FlowID
	labelOf := map[string]string{}
	for i, s := range steps {
		ex := all.Exchanges[len(steps)-1-i]
		if want, ok := flowOf[s.flow]; ok {
			equal(t, ex.Path+" (step "+s.flow+") flow", ex.FlowID, want)
			continue
		}
		if other, taken := labelOf[ex.FlowID]; taken {
			t.Errorf("step %d (%s) joined flow %q of %q", i, ex.Path, ex.FlowID, other)
		}
		equal(t, "a new flow is named by its first exchange", ex.FlowID, ex.ID)
		flowOf[s.flow], labelOf[ex.FlowID] = ex.FlowID, s.flow
	}
	for label, flowID := range flowOf {
		journey, err := rec.Flow(flowID)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, s := range steps {
			if s.flow == label {
				want = append(want, maskURL(s.call.path, everything))
			}
		}
		var got []string
		for _, ex := range journey {
			got = append(got, ex.URL)
		}
		equal(t, "journey "+label, toJSON(t, got), toJSON(t, want))
		rows, _, err := rec.ListSummaries(Query{FlowID: flowID})
		equal(t, "summaries of flow "+label, len(rows), len(want))
		equal(t, "error", err, nil)
	}
}

func TestFlowCaptureSocial(t *testing.T) {
	t.Parallel()
	const social = "12ab34cd56ef78gh90ij12kl34mn56op78qr90st"
	rec := newTestRecorder(t)
	runJourney(t, rec, []journeyStep{
		{call{path: "/oauth/auth_native", contentType: formType, body: "client_id=c1&token=" + social},
			`{"stat":"error","code":310,"error":"record_not_found","prereg_fields":{"emailAddress":"janedoe@example.com"}}`, "jane"},
		{call{path: "/oauth/auth_native?client_id=c1&token=" + social}, // iOS: all in the query
			`{"stat":"error","code":310,"error":"record_not_found"}`, "jane"},
		{call{path: "/oauth/auth_native", contentType: formType, body: "client_id=c1&token=someone-else-0000000000"},
			`{"stat":"error","code":200,"error":"invalid_argument"}`, "other"},
		{call{path: "/oauth/register_native", contentType: formType,
			body: "client_id=c1&token=" + social + "&emailAddress=janedoe%40example.com&form=socialRegistrationForm"},
			`{"stat":"ok","capture_user":{"uuid":"uuid-jane-0001","email":"janedoe@example.com"},"is_new":true,"access_token":"at-jane-0001"}`, "jane"},
		{call{path: "/entity", contentType: formType, body: "access_token=at-jane-0001"},
			`{"stat":"ok","result":{"uuid":"uuid-jane-0001","email":"janedoe@example.com"}}`, "jane"},
		{call{method: "GET", path: "/entity", header: http.Header{"Authorization": {"Bearer at-jane-0001"}}},
			`{"stat":"ok","result":{"uuid":"uuid-jane-0001"}}`, "jane"},
	}, nil)
}

func TestFlowCaptureCode(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	runJourney(t, rec, []journeyStep{
		{call{path: "/oauth/register_native_traditional", contentType: formType,
			body: "response_type=code&emailAddress=bob%40example.com&newPassword=x"},
			`{"stat":"ok","capture_user":{"uuid":"uuid-bob-0002","email":"bob@example.com"},"authorization_code":"code-bob-0002","access_token":"at-bob-first"}`, "bob"},
		{call{path: "/oauth/token", contentType: formType, body: "grant_type=authorization_code&code=code-bob-0002"},
			`{"access_token":"at-bob-0002","expires_in":3600,"refresh_token":"rt-bob-0002","stat":"ok"}`, "bob"},
		{call{path: "/oauth/token", contentType: formType, body: "grant_type=refresh_token&refresh_token=rt-bob-0002"},
			`{"access_token":"at-bob-0003","expires_in":3600,"refresh_token":"rt-bob-0003","stat":"ok"}`, "bob"},
		{call{path: "/entity?access_token=at-bob-0003", method: "GET"}, `{"stat":"ok","result":{}}`, "bob"},
	}, nil)
}

func TestFlowOneginiQR(t *testing.T) {
	t.Parallel()
	const qr1, qr2 = "6c1f1d0e-1b7a-4e8e-9d3f-2a9b8c7d6e5f", "0b5e3c1a-7f2d-4c9e-8a6b-1d2e3f4a5b6c"
	basic := http.Header{"Authorization": {"Basic ZXhhbXBsZS1hcGktY2xpZW50OmV4YW1wbGUtYXBpLXNlY3JldA=="}}
	rec := newTestRecorder(t)
	runJourney(t, rec, []journeyStep{
		{call{path: "/oauth/api/v3/custom-registration/QrCodeIdp/backchannel", contentType: "application/json",
			body: `{"data":"{\"userId\":\"user-1\"}"}`, header: basic}, `{"status":2000,"data":"` + qr1 + `"}`, "qr1"},
		{call{path: "/oauth/api/v3/custom-registration/QrCodeIdp/backchannel", contentType: "application/json",
			body: `{"data":"{\"userId\":\"user-1\"}"}`, header: basic}, `{"status":2000,"data":"` + qr2 + `"}`, "qr2"},
		{call{path: "/oauth/custom-registration/QrCodeIdp/complete", contentType: formType,
			body: "client_id=example-app-client&client_secret=example-app-secret&data=" + qr1},
			`{"status":2000,"oauth_token":{"token_type":"bearer","access_token":"at-qr-1","expires_in":3600}}`, "qr1"},
		{call{path: "/oauth/custom-registration/ExampleId/init", contentType: "application/json", body: `{"data":"hi"}`},
			`{"transaction_id":"tx-0001-aaaa","data":"hello","status":2000}`, "two-step"},
		{call{path: "/oauth/custom-registration/ExampleId/complete", contentType: "application/json",
			body: `{"transaction_id":"tx-0001-aaaa","data":"code 1234"}`}, `{"status":2000,"data":"ok"}`, "two-step"},
	}, nil)
}

// TestFlowEmailLinksOnlyRecently: a retry with the same address joins the
// registration; the same test address an hour later starts a new one.
func TestFlowEmailLinksOnlyRecently(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	rec := newTestRecorder(t, WithClock(clock.Now))
	register := call{path: "/oauth/register_native_traditional", contentType: formType,
		body: "emailAddress=Jane%40Example.com&firstName=Jane"}
	runJourney(t, rec, []journeyStep{
		{register, `{"stat":"error","code":390,"error":"invalid_form_fields"}`, "first"},
		{register, `{"stat":"ok","capture_user":{"uuid":"u-1"}}`, "first"},
		{register, `{"stat":"ok","capture_user":{"uuid":"u-2"}}`, "second"},
	}, func(i int) {
		if i == 2 {
			clock.Advance(time.Hour)
		}
	})
}

func TestAdminCallsDoNotLink(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	runJourney(t, rec, []journeyStep{
		{call{path: "/oauth/auth_native", contentType: formType, body: "token=tok-admin-0001"}, `{"stat":"ok"}`, "a"},
		{call{method: "GET", path: "/__admin/health?token=tok-admin-0001"}, `{"token":"tok-admin-0001"}`, "admin"},
	}, nil)
}

// TestFlowJoinedByAnOlderCall: a call that started before the one that
// started its flow, but answered after it, still lists in time order,
// and paging through the flow sees each call once.
func TestFlowJoinedByAnOlderCall(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	mk := func(token string) *pending {
		p := &pending{method: "POST", status: 200, reqHeader: []string{"Content-Type", formType},
			reqBody: []byte("token=" + token), respBody: []byte(`{"stat":"ok"}`)}
		p.url, p.notes.Endpoint = &url.URL{Path: "/oauth/auth_native"}, "capture.auth_native"
		p.id, p.start = rec.ids.next()
		return withHeaderValues(p)
	}
	olderP, starterP, laterP := mk("tok-shared-0001"), mk("tok-shared-0001"), mk("tok-shared-0001")
	otherP := mk("tok-other-0002")
	older, starter, later, other := olderP.id, starterP.id, laterP.id, otherP.id
	rec.addPending(4)
	rec.write([]*pending{starterP, otherP, olderP, laterP}) // releases them
	flowID := starter.String()
	journey, err := rec.Flow(flowID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ex := range journey {
		got = append(got, ex.ID)
		equal(t, "flow", ex.FlowID, flowID)
	}
	equal(t, "oldest first", fmt.Sprint(got), fmt.Sprint([]string{older.String(), flowID, later.String()}))
	for _, limit := range []int{1, 2, 3} {
		var paged []string
		q := Query{FlowID: flowID, Limit: limit}
		for {
			rows, next, err := rec.ListSummaries(q)
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rows {
				paged = append(paged, row.ID)
			}
			if next == "" {
				break
			}
			q.Before = next
		}
		equal(t, fmt.Sprint("newest first by ", limit), fmt.Sprint(paged),
			fmt.Sprint([]string{later.String(), flowID, older.String()}))
	}
	rows, _, _ := rec.ListSummaries(Query{FlowID: other.String()})
	equal(t, "a flow of one", len(rows), 1)
}

// TestFormLinksAsParseQueryReadsThem: a form body gives the links that
// url.ParseQuery would find in it, and masks as maskQuery does; a form
// with more pairs than ParseQuery takes gives none.
func TestFormLinksAsParseQueryReadsThem(t *testing.T) {
	t.Parallel()
	links := func(form string) (int, string) {
		s := &linkSink{seed: maphash.MakeSeed()}
		masked := maskForm(form, passwords, s)
		return len(s.links), masked
	}
	for _, tc := range []struct {
		form   string
		links  int
		masked string
	}{
		{"token=abcdef&emailAddress=jane%40example.com&newPassword=x", 2, "token=abcdef&emailAddress=jane%40example.com&newPassword=" + Mask},
		{"to%6Ben=abcdef;x=1&n%65wPassword=secret", 0, "to%6Ben=abcdef;x=1&n%65wPassword=" + Mask},
		{"token=ab%zz&uuid=1234", 1, "token=ab%zz&uuid=1234"},
		{strings.Repeat("a=1&", maxQueryParams) + "token=abcdef&password=p", 0, strings.Repeat("a=1&", maxQueryParams) + "token=abcdef&password=" + Mask},
	} {
		n, masked := links(tc.form)
		if n != tc.links || masked != tc.masked {
			t.Errorf("%.40q: %d links, masked %.80q; want %d, %.80q", tc.form, n, masked, tc.links, tc.masked)
		}
	}
}

// TestLinkIndexForgetsTheLeastRecentlyUsed: the index keeps two
// generations of half its capacity each; a key used again moves to the
// young one, a generation turns over only when a new key finds the young
// one full, and keys untouched for two turns are forgotten.
func TestLinkIndexForgetsTheLeastRecentlyUsed(t *testing.T) {
	li := newLinkIndex(4) // generations of two keys
	put := func(h uint64) { li.put(h, linkEntry{seen: int64(h)}) }
	has := func(h uint64) bool { _, ok := li.get(h); return ok }
	put(1)
	put(2)
	put(2)       // the young generation is full, but 2 is in it: nothing turns over
	put(3)       // turns over: old {1, 2}, young {3}
	if !has(1) { // moves 1 to the young generation: {3, 1}
		t.Fatal("1 was forgotten after one turn")
	}
	put(4) // turns over: old {3, 1}, young {4}; 2 is gone
	// In this order each lookup leaves the others' answers as they were.
	for _, tc := range []struct {
		key  uint64
		want bool
	}{{2, false}, {4, true}, {3, true}, {1, true}} {
		if got := has(tc.key); got != tc.want {
			t.Errorf("key %d known: %v, want %v", tc.key, got, tc.want)
		}
	}
}
