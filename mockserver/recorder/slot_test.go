package recorder

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// slotHandler answers /n/<i> with its body, noting endpoint e<i> and, for
// odd i, fault f<i>; /panic panics. It fails the test when a request
// starts with notes left over from another.
func slotHandler(t *testing.T, usedSlot *sync.Map) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		notes := NotesFrom(r.Context())
		if notes == nil || notes.Fault != "" || notes.Endpoint != "" || notes.Script != nil {
			t.Errorf("%s starts with notes %+v", r.URL.Path, notes)
			return
		}
		if s, _ := r.Context().Value(captureKey{}).(*connSlot); s != nil && &s.notes == notes {
			usedSlot.Store(r.URL.Path, true)
		}
		if r.URL.Path == "/panic" {
			notes.SetEndpoint("leaked")
			panic("boom")
		}
		i := strings.TrimPrefix(r.URL.Path, "/n/")
		notes.SetEndpoint("e" + i)
		if n := len(i); i[n-1]%2 == 1 {
			notes.SetFault("f" + i)
		}
		body, _ := io.ReadAll(r.Body)
		w.Write(body)
	})
}

// checkSlotExchanges checks that each /n/<i> exchange kept its own notes
// and bodies.
func checkSlotExchanges(t *testing.T, rec *Recorder, n int) {
	t.Helper()
	rec.Flush()
	page, err := rec.List(Query{Limit: MaxPage})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, ex := range page.Exchanges {
		i, ok := strings.CutPrefix(ex.Path, "/n/")
		if !ok {
			continue
		}
		seen++
		wantFault := ""
		if i[len(i)-1]%2 == 1 {
			wantFault = "f" + i
		}
		equal(t, ex.Path+" endpoint", ex.Endpoint, "e"+i)
		equal(t, ex.Path+" fault", ex.Fault, wantFault)
		equal(t, ex.Path+" request body", ex.RequestBody, "body "+i)
		equal(t, ex.Path+" response body", ex.ResponseBody, "body "+i)
	}
	equal(t, "exchanges recorded", seen, n)
}

// slotServer is an unstarted test server recording slotHandler, with the
// connection slots the mock server gives its connections, and the set of
// paths recorded through a slot.
func slotServer(t *testing.T) (*Recorder, *httptest.Server, *sync.Map) {
	rec := newTestRecorder(t)
	usedSlot := new(sync.Map)
	srv := httptest.NewUnstartedServer(rec.Wrap(slotHandler(t, usedSlot)))
	srv.Config.ConnContext = rec.ConnContext
	t.Cleanup(srv.Close)
	return rec, srv, usedSlot
}

// postN sends request i of slotHandler.
func postN(client *http.Client, base string, i int) (*http.Response, error) {
	return client.Post(fmt.Sprintf("%s/n/%d", base, i), "text/plain", strings.NewReader(fmt.Sprint("body ", i)))
}

// TestConnectionSlotHTTP1: the requests of one keep-alive connection
// take turns in its slot, each with fresh notes, and are recorded apart;
// a panic does not leave its notes to the next request.
func TestConnectionSlotHTTP1(t *testing.T) {
	t.Parallel()
	rec, srv, usedSlot := slotServer(t)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the panic's trace
	srv.Start()
	client := srv.Client()
	const n = 20
	for i := range n {
		if i == 7 {
			// The panic closes that connection; the next opens another.
			if resp, err := client.Get(srv.URL + "/panic"); err == nil {
				resp.Body.Close()
			}
		}
		resp, err := postN(client, srv.URL, i)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	checkSlotExchanges(t, rec, n)
	for i := range n {
		if _, ok := usedSlot.Load(fmt.Sprintf("/n/%d", i)); !ok {
			t.Errorf("/n/%d was not recorded through its connection's slot", i)
		}
	}
	rec.Flush()
	// The client may send the GET again on a fresh connection.
	page, err := rec.List(Query{Text: "/panic"})
	if err != nil || len(page.Exchanges) == 0 {
		t.Fatalf("panic exchanges: %d, %v", len(page.Exchanges), err)
	}
	for _, ex := range page.Exchanges {
		equal(t, "panic outcome", ex.Outcome, OutcomePanic)
		equal(t, "panic endpoint", ex.Endpoint, "leaked")
	}
}

// TestConnectionSlotHTTP2: concurrent streams of one HTTP/2 connection
// each get notes of their own, not the connection's slot.
func TestConnectionSlotHTTP2(t *testing.T) {
	t.Parallel()
	rec, srv, usedSlot := slotServer(t)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	client := srv.Client()
	const n = 32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := postN(client, srv.URL, i)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			io.Copy(io.Discard, resp.Body)
			if resp.ProtoMajor != 2 {
				t.Errorf("answered over %s, want HTTP/2", resp.Proto)
			}
		})
	}
	wg.Wait()
	checkSlotExchanges(t, rec, n)
	usedSlot.Range(func(path, _ any) bool {
		t.Errorf("%s (HTTP/2) was recorded through the connection's slot", path)
		return true
	})
}

// TestNestedWrapOnASlotRecordsOnce: on a connection with a slot, a Wrap
// inside another finds the outer one's notes in the busy slot, records
// nothing of its own, and the handler's notes reach the outer exchange
// (TestNestedWrapRecordsOnce covers requests without a slot).
func TestNestedWrapOnASlotRecordsOnce(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	srv := httptest.NewUnstartedServer(rec.Wrap(rec.Wrap(slotHandler(t, new(sync.Map)))))
	srv.Config.ConnContext = rec.ConnContext
	srv.Start()
	defer srv.Close()
	const n = 6
	for i := range n {
		resp, err := postN(srv.Client(), srv.URL, i)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	checkSlotExchanges(t, rec, n)
	equal(t, "exchanges", rec.Count(), n)
}
