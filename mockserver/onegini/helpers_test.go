package onegini_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"regsandbox/fixtures"
	"regsandbox/mockserver/onegini"
	"regsandbox/mockserver/script"
	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// Credentials of the default workspace.
const (
	apiID     = "example-api-client"
	apiSecret = "example-api-secret"
	appID     = "example-app-client"
	appSecret = "example-app-secret"
)

// Paths of the endpoints for an IdP.
func backchannelPath(idp string) string {
	return "/oauth/api/v3/custom-registration/" + idp + "/backchannel"
}
func initPath(idp string) string     { return "/oauth/custom-registration/" + idp + "/init" }
func completePath(idp string) string { return "/oauth/custom-registration/" + idp + "/complete" }

// env is an Onegini back end on an in-memory database with the default
// workspace, served by a real HTTP server.
type env struct {
	t       *testing.T
	url     string
	db      *storage.DB
	backend *onegini.Backend
	clock   *fakeClock
	ws      *workspace.Workspace
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

// defaultWorkspace parses the bundled workspace.
func defaultWorkspace(t testing.TB) *workspace.Workspace {
	t.Helper()
	ws, err := workspace.Parse(fixtures.DefaultWorkspace)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// newEnv starts a back end on the default workspace, changed by edit when
// it is not nil.
func newEnv(t *testing.T, edit func(ws *workspace.Workspace)) *env {
	t.Helper()
	db, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	ws := defaultWorkspace(t)
	if edit != nil {
		edit(ws)
	}
	clock := &fakeClock{now: time.Now().Truncate(time.Second)}
	b, err := onegini.New(db, func() *workspace.Workspace { return ws }, script.NewEngine(), onegini.WithClock(clock.Now),
		onegini.WithOutcomeReport(reportOutcome))
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	b.Routes(r)
	srv := httptest.NewServer(withOutcome(r))
	t.Cleanup(func() {
		srv.Close()
		db.Close()
	})
	return &env{t: t, url: srv.URL, db: db, backend: b, clock: clock, ws: ws}
}

// outcomeKey holds where a request's reported Outcome goes.
type outcomeKey struct{}

// reportOutcome copies the back end's report into the request's slot.
func reportOutcome(r *http.Request, o *onegini.Outcome) {
	if dst, ok := r.Context().Value(outcomeKey{}).(*onegini.Outcome); ok {
		*dst = *o
	}
}

// withOutcome gives every request a slot for its reported Outcome, as the
// server's inspector does, and shows it in a response header for the
// tests to read.
func withOutcome(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := new(onegini.Outcome)
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), outcomeKey{}, o)))
		raw, _ := json.Marshal(o)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("X-Test-Outcome", string(raw))
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// call is one request to the back end.
type call struct {
	path string
	// body is sent as JSON unless form is set.
	body string
	form bool
	// user and pass are sent by HTTP Basic when user is not empty.
	user, pass string
}

// answer is an HTTP answer with its body decoded when it is JSON.
type answer struct {
	status  int
	header  http.Header
	raw     string
	body    map[string]any
	outcome onegini.Outcome
}

func (e *env) do(c call) answer {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+c.path, strings.NewReader(c.body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.form {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	a := answer{status: res.StatusCode, header: res.Header, raw: string(raw)}
	json.Unmarshal(raw, &a.body)
	json.Unmarshal([]byte(res.Header.Get("X-Test-Outcome")), &a.outcome)
	return a
}

// backchannel calls the backchannel of idp as the example API client.
func (e *env) backchannel(idp, body string) answer {
	e.t.Helper()
	return e.do(call{path: backchannelPath(idp), body: body, user: apiID, pass: apiSecret})
}

// init calls init of idp as the example app client.
func (e *env) init(idp, body string) answer {
	e.t.Helper()
	return e.do(call{path: initPath(idp), body: body, user: appID, pass: appSecret})
}

// complete calls complete of idp as the example app client.
func (e *env) complete(idp, body string) answer {
	e.t.Helper()
	return e.do(call{path: completePath(idp), body: body, user: appID, pass: appSecret})
}

// jsonString encodes s as a JSON string, for building bodies.
func jsonString(s string) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// wantHeaders checks the three headers every Token Server answer carries.
func wantHeaders(t *testing.T, h http.Header) {
	t.Helper()
	equal(t, "Content-Type", h.Get("Content-Type"), "application/json;charset=UTF-8")
	equal(t, "Cache-Control", h.Get("Cache-Control"), "no-store")
	equal(t, "Pragma", h.Get("Pragma"), "no-cache")
}

// wantStatus checks a 200 answer's script status.
func wantStatus(t *testing.T, a answer, status int) {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("HTTP status %d, want 200: %s", a.status, a.raw)
	}
	if got, _ := a.body["status"].(float64); int(got) != status {
		t.Fatalf("status = %v, want %d: %s", a.body["status"], status, a.raw)
	}
}

// wantError checks an error answer, body byte for byte.
func wantError(t *testing.T, a answer, status int, code, description string) {
	t.Helper()
	equal(t, "HTTP status", a.status, status)
	want, _ := json.Marshal(map[string]string{"error": code, "error_description": description})
	equal(t, "body", a.raw, string(want))
	wantHeaders(t, a.header)
}
