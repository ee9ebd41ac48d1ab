package onegini

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"

	"regsandbox/fixtures"
	"regsandbox/mockserver/script"
	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// counterScript counts its calls in the IdP cache: a read-modify-write of
// one entry, which only stays exact when each run reads and writes in one
// transaction.
const counterScript = `{"status": 2000, "cache": {"set": {"n": ("n" in cache ? cache["n"] : 0) + 1}}}`

// internalEnv serves the default workspace, edited by edit, on an
// in-memory database.
func internalEnv(t *testing.T, edit func(*workspace.Workspace)) (*Backend, http.Handler) {
	t.Helper()
	db, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ws, err := workspace.Parse(fixtures.DefaultWorkspace)
	if err != nil {
		t.Fatal(err)
	}
	edit(ws)
	b, err := New(db, func() *workspace.Workspace { return ws }, script.NewEngine())
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	b.Routes(r)
	return b, r
}

// postStatus sends a request as the default API or app client and
// returns the HTTP status and the decoded answer.
func postStatus(h http.Handler, path, body string, app bool) (int, map[string]any) {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if app {
		req.SetBasicAuth("example-app-client", "example-app-secret")
	} else {
		req.SetBasicAuth("example-api-client", "example-api-secret")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var answer map[string]any
	json.Unmarshal(rec.Body.Bytes(), &answer)
	return rec.Code, answer
}

// TestReadModifyWriteIsAtomic races calls of a script that reads and
// writes one cache entry, starting in a read-only transaction (the script
// last wrote nothing) or in the read-write one at once: no increment may
// be lost either way.
func TestReadModifyWriteIsAtomic(t *testing.T) {
	for _, startReadOnly := range []bool{true, false} {
		b, h := internalEnv(t, func(ws *workspace.Workspace) {
			ws.Onegini.IdPs[0].Scripts.Backchannel = counterScript
		})
		const path = "/oauth/api/v3/custom-registration/ExampleId/backchannel"
		// The first call creates the entry: a key that does not exist yet
		// takes part in no conflict check.
		if code, a := postStatus(h, path, "", false); code != 200 || a["status"] != float64(2000) {
			t.Fatalf("first call: %d %v", code, a)
		}
		s, err := b.compiled(counterScript)
		if err != nil || !s.readsCache {
			t.Fatalf("compiled = %+v, %v; want a script that reads the cache", s, err)
		}
		const calls = 24
		var wg sync.WaitGroup
		for range calls {
			wg.Go(func() {
				s.wrote.Store(!startReadOnly)
				if code, a := postStatus(h, path, "", false); code != 200 || a["status"] != float64(2000) {
					t.Errorf("call: %d %v", code, a)
				}
			})
		}
		wg.Wait()
		entries, err := b.CacheEntries("ExampleId")
		if err != nil || len(entries) != 1 || entries[0].Value != int64(calls+1) {
			t.Errorf("read-only start %v: cache = %+v, %v; want n = %d", startReadOnly, entries, err, calls+1)
		}
	}
}

// TestTransactionUsedOnce races completes on one two-step transaction:
// exactly one registers, the others find it used up.
func TestTransactionUsedOnce(t *testing.T) {
	for _, startReadOnly := range []bool{true, false} {
		b, h := internalEnv(t, func(*workspace.Workspace) {})
		_, a := postStatus(h, "/oauth/custom-registration/ExampleId/init", "", true)
		id, _ := a["transaction_id"].(string)
		s, err := b.compiled(b.workspace().Onegini.IdPs[0].Scripts.Complete)
		if err != nil {
			t.Fatal(err)
		}
		body := `{"transaction_id":"` + id + `","data":"{\"userId\":\"u\"}","scope":["profile"]}`
		var mu sync.Mutex
		answers := map[string]int{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				s.wrote.Store(!startReadOnly)
				code, a := postStatus(h, "/oauth/custom-registration/ExampleId/complete", body, true)
				mu.Lock()
				defer mu.Unlock()
				if code == 200 {
					answers["status"]++
				} else {
					answers[a["error"].(string)]++
				}
			})
		}
		wg.Wait()
		if answers["status"] != 1 || answers[CodeInvalidRequest] != 7 {
			t.Errorf("read-only start %v: answers = %v, want one registration and seven invalid_request", startReadOnly, answers)
		}
	}
}
