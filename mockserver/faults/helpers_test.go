package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorilla/mux"

	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/workspace"
)

// sandbox is a test server: a mux router whose routes are named by
// endpoint ids, behind the engine's middleware, over a stub back end.
type sandbox struct {
	*httptest.Server
	engine *Engine
	// active counts requests inside the handler, to catch leaks.
	active atomic.Int64

	mu    sync.Mutex
	fired []string // ids of the rules that fired, in order
}

// newSandbox starts a server with rules armed; it stops with the test.
func newSandbox(t *testing.T, rules []workspace.Fault, opts ...Option) *sandbox {
	t.Helper()
	s := &sandbox{engine: NewEngine(opts...)}
	if err := s.engine.SetRules(rules); err != nil {
		t.Fatalf("SetRules: %v", err)
	}
	r := mux.NewRouter()
	stub := http.HandlerFunc(echo)
	for _, rt := range []struct{ path, endpoint string }{
		{"/oauth/register_native_traditional", capture.EndpointRegisterNativeTraditional},
		{"/oauth/register_native", capture.EndpointRegisterNative},
		{"/oauth/auth_native", capture.EndpointAuthNative},
		{"/oauth/token", capture.EndpointToken},
		{"/entity", capture.EndpointEntity},
		{"/oauth/api/v3/custom-registration/{idp}/backchannel", EndpointOneginiBackchannel},
		{"/oauth/custom-registration/{idp}/init", EndpointOneginiInit},
		{"/oauth/custom-registration/{idp}/complete", EndpointOneginiComplete},
	} {
		r.Handle(rt.path, stub).Name(rt.endpoint)
	}
	r.Use(s.engine.Middleware(RouteName, s.onFire))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.active.Add(1)
		defer s.active.Add(-1)
		r.ServeHTTP(w, req)
	}))
	t.Cleanup(func() {
		s.engine.Close()
		s.Close()
	})
	return s
}

// onFire records the rules that fired.
func (s *sandbox) onFire(_ *http.Request, rule workspace.Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fired = append(s.fired, rule.ID)
}

// firedRules returns the ids of the rules that fired so far.
func (s *sandbox) firedRules() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.fired...)
}

// echo is the stub back end: it answers 200 with the body it read, so tests
// see that the middleware gave the body back intact.
func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"stat": "ok", "echo": string(body)})
}

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request and reads the answer.
func do(t *testing.T, client *http.Client, req *http.Request) (answer, error) {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: body}, err
}

// postForm sends a url-encoded POST to path.
func (s *sandbox) postForm(t *testing.T, path string, form url.Values) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	a, err := do(t, s.Client(), req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return a
}

// postJSON sends a JSON POST to path.
func (s *sandbox) postJSON(t *testing.T, path, body string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	a, err := do(t, s.Client(), req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return a
}

// newRequest is a request for Match, without a server.
func newRequest(method, target, contentType, body string) *http.Request {
	r := httptest.NewRequestWithContext(context.Background(), method, target, bytes.NewReader([]byte(body)))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

// decodeObject decodes a JSON object, failing the test if it is not one.
func decodeObject(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, raw)
	}
	return m
}

func assertEqual[T comparable](t *testing.T, got, want T, what string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func assertContains(t *testing.T, s, sub, what string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s = %q, want it to contain %q", what, s, sub)
	}
}

func mustNoError(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func jsonValid(b []byte) bool { return json.Valid(b) }
