package capture_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"regsandbox/fixtures"
	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// benchBackend is the Capture back end alone on its routes, over an
// in-memory database with the default workspace.
func benchBackend(b *testing.B) http.Handler {
	b.Helper()
	db, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	ws, err := workspace.Parse(fixtures.DefaultWorkspace)
	if err != nil {
		b.Fatal(err)
	}
	backend, err := capture.New(db, func() *workspace.Workspace { return ws })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		backend.Close()
		db.Close()
	})
	r := mux.NewRouter()
	backend.Routes(r)
	return r
}

// benchmarkRegister posts bodies made by body(i) to
// register_native_traditional and expects an answer containing expect.
func benchmarkRegister(b *testing.B, body func(i int) string, expect string) {
	h := benchBackend(b)
	want := []byte(expect)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest(http.MethodPost, "/oauth/register_native_traditional", strings.NewReader(body(i)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), want) {
			b.Fatalf("answer %d: %s", w.Code, w.Body.Bytes())
		}
	}
}

// BenchmarkRegisterTraditional is the seed registration with a unique
// e-mail address and display name: form parsing, every rule of every
// field, the password hash, the user's write and the JSON answer.
func BenchmarkRegisterTraditional(b *testing.B) {
	base := with(seedRegistration(), "emailAddress", "", "displayName", "").Encode()
	benchmarkRegister(b, func(i int) string {
		n := strconv.Itoa(i)
		return base + "&emailAddress=bench" + n + "%40example.com&displayName=Bench" + n
	}, `"stat":"ok"`)
}

// BenchmarkRegisterInvalidForm is form parsing and validation alone: the
// passwords differ, so the answer is 390 invalid_form_fields after every
// rule ran and the unique values were looked up, without hashing or
// writing.
func BenchmarkRegisterInvalidForm(b *testing.B) {
	body := with(seedRegistration(), "newPasswordConfirm", "password124").Encode()
	benchmarkRegister(b, func(int) string { return body }, `"code":390`)
}
