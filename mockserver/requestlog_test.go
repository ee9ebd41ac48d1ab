package mockserver_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"regsandbox/mockserver"
	"regsandbox/storage"
)

// With a request log of its own, the server records there and leaves its
// main database to configuration and users, dropping exchanges an earlier
// version recorded into it.
func TestRequestLogKeepsExchangesApart(t *testing.T) {
	t.Parallel()
	open := func() *storage.DB {
		db, err := storage.Open(storage.Options{InMemory: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db, log := open(), open()
	legacy := "recorder/x/0000000000000000001-000000"
	if err := db.Update(func(tx *storage.Tx) error { return tx.PutRaw(legacy, []byte("old")) }); err != nil {
		t.Fatal(err)
	}
	srv, err := mockserver.New(db, mockserver.WithRequestLog(log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	req, _ := http.NewRequest(http.MethodPost, "/oauth/register_native_traditional",
		strings.NewReader(seedForm().Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("registration answered %d: %s", rec.Code, rec.Body)
	}
	srv.Recorder().Flush()

	if got := countPrefix(t, db, "recorder/"); got != 0 {
		t.Errorf("main database holds %d recorder keys, want none", got)
	}
	if got := countPrefix(t, log, "recorder/"); got == 0 {
		t.Error("the request log holds no exchange")
	}
	if n := srv.Recorder().Count(); n != 1 {
		t.Errorf("Count() = %d, want 1", n)
	}
}

func countPrefix(t *testing.T, db *storage.DB, prefix string) int {
	t.Helper()
	n := 0
	err := db.View(func(tx *storage.Tx) error {
		return tx.Scan(prefix, false, func(string, []byte) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
