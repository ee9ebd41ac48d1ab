package capture_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"regsandbox/fixtures"
	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// FuzzRegistrationForm sends arbitrary bodies to the registration
// endpoints: every answer must be Capture JSON with a stat, never a panic.
func FuzzRegistrationForm(f *testing.F) {
	f.Add("/oauth/register_native_traditional", seedRegistration().Encode())
	f.Add("/oauth/register_native", seedSocialRegistration().Encode())
	f.Add("/oauth/auth_native", authNativeParams().Encode())
	f.Add("/oauth/auth_native_traditional", signInParams("a@b.c", "x").Encode())
	f.Add("/oauth/token", "grant_type=authorization_code&code=%zz")
	f.Add("/entity", "access_token=\xff\xfe")
	f.Add("/oauth/register_native_traditional", "birthdate[dateselect_year]=99999999999999999999&form=registrationForm")
	db, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	ws, _ := workspace.Parse(fixtures.DefaultWorkspace)
	b, err := capture.New(db, func() *workspace.Workspace { return ws })
	if err != nil {
		f.Fatal(err)
	}
	r := mux.NewRouter()
	b.Routes(r)
	f.Fuzz(func(t *testing.T, path, body string) {
		if !strings.HasPrefix(path, "/") {
			path = "/oauth/register_native_traditional"
		}
		req, err := http.NewRequest(http.MethodPost, "http://localhost"+path, bytes.NewBufferString(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		// Unknown paths, other methods and mux's redirects to a cleaned
		// path are the router's answers, not Capture's.
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed ||
			rec.Code >= 300 && rec.Code < 400 {
			return
		}
		var answer map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("%s %q: answer is not JSON: %s", path, body, rec.Body)
		}
		if answer["stat"] != "ok" && answer["stat"] != "error" {
			t.Fatalf("%s %q: no stat: %s", path, body, rec.Body)
		}
	})
}
