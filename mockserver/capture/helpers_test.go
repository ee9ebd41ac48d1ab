package capture_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"regsandbox/fixtures"
	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// env is a Capture back end on an in-memory database with the default
// workspace, served by a real HTTP server.
type env struct {
	t       *testing.T
	url     string
	backend *capture.Backend
	clock   *fakeClock
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, func(*workspace.Workspace) {})
}

// newEnvWith is newEnv with the default workspace changed by mutate.
func newEnvWith(t *testing.T, mutate func(*workspace.Workspace)) *env {
	t.Helper()
	db, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := workspace.Parse(fixtures.DefaultWorkspace)
	if err != nil {
		t.Fatal(err)
	}
	mutate(ws)
	clock := &fakeClock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	b, err := capture.New(db, func() *workspace.Workspace { return ws }, capture.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	b.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		srv.Close()
		b.Close()
		db.Close()
	})
	return &env{t: t, url: srv.URL, backend: b, clock: clock}
}

// answer is a decoded JSON answer with its HTTP status.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// post sends params as a url-encoded body, the way curl --data-urlencode does.
func (e *env) post(path string, params url.Values) answer {
	e.t.Helper()
	resp, err := http.Post(e.url+path, "application/x-www-form-urlencoded", strings.NewReader(params.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	return e.read(resp)
}

func (e *env) do(req *http.Request) answer {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.read(resp)
}

func (e *env) read(resp *http.Response) answer {
	e.t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		e.t.Fatalf("answer is not a JSON object: %v\n%s", err, raw)
	}
	return a
}

// seedRegistration is the seed's register_native_traditional example.
func seedRegistration() url.Values {
	return url.Values{
		"client_id":                   {"12345abcde12345abcde12345abcde12"},
		"flow":                        {"standard"},
		"flow_version":                {"20190618143040022299"},
		"locale":                      {"en-US"},
		"redirect_uri":                {"http://localhost"},
		"response_type":               {"token"},
		"form":                        {"registrationForm"},
		"emailAddress":                {"johndoe@example.com"},
		"newPassword":                 {"password123"},
		"newPasswordConfirm":          {"password123"},
		"lastName":                    {"Doe"},
		"firstName":                   {"John"},
		"displayName":                 {"JohnDoe"},
		"birthdate[dateselect_year]":  {"1930"},
		"birthdate[dateselect_month]": {"11"},
		"birthdate[dateselect_day]":   {"3"},
	}
}

// seedSocialRegistration is the seed's register_native example.
func seedSocialRegistration() url.Values {
	return url.Values{
		"client_id":                   {"12345abcde12345abcde12345abcde12"},
		"flow":                        {"standard"},
		"flow_version":                {"67890def-6789-defg-6789-67890defgh67"},
		"locale":                      {"en-US"},
		"redirect_uri":                {"http://localhost"},
		"token":                       {"12ab34cd56ef78gh90ij12kl34mn56op78qr90st"},
		"form":                        {"socialRegistrationForm"},
		"emailAddress":                {"janedoe@example.com"},
		"lastName":                    {"Doe"},
		"firstName":                   {"Jane"},
		"displayName":                 {"JaneDoe"},
		"birthdate[dateselect_year]":  {"1930"},
		"birthdate[dateselect_month]": {"11"},
		"birthdate[dateselect_day]":   {"3"},
	}
}

// authNativeParams are the parameters of auth_native for the seed token.
func authNativeParams() url.Values {
	return url.Values{
		"client_id":    {"12345abcde12345abcde12345abcde12"},
		"flow":         {"standard"},
		"flow_version": {"67890def-6789-defg-6789-67890defgh67"},
		"locale":       {"en-US"},
		"redirect_uri": {"http://localhost"},
		"token":        {"12ab34cd56ef78gh90ij12kl34mn56op78qr90st"},
	}
}

func signInParams(email, password string) url.Values {
	return url.Values{
		"client_id":          {"12345abcde12345abcde12345abcde12"},
		"flow":               {"standard"},
		"flow_version":       {"20190618143040022299"},
		"locale":             {"en-US"},
		"redirect_uri":       {"http://localhost"},
		"form":               {"signInForm"},
		"signInEmailAddress": {email},
		"currentPassword":    {password},
	}
}

// with returns a copy of v with the changes applied; an empty value
// removes the parameter.
func with(v url.Values, changes ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(changes); i += 2 {
		if changes[i+1] == "" {
			out.Del(changes[i])
		} else {
			out.Set(changes[i], changes[i+1])
		}
	}
	return out
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// expectError checks a Capture error answer: HTTP status, stat, code,
// error name and description, and a well-formed request_id.
func expectError(t *testing.T, a answer, status int, code float64, name, description string) {
	t.Helper()
	equal(t, "HTTP status", a.status, status)
	equal(t, "stat", a.body["stat"], any("error"))
	equal(t, "code", a.body["code"], any(code))
	equal(t, "error", a.body["error"], any(name))
	if description != "" {
		equal(t, "error_description", a.body["error_description"], any(description))
	}
	id, _ := a.body["request_id"].(string)
	if len(id) != 16 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		t.Errorf("request_id %q is not 16 lowercase alphanumerics", id)
	}
}
