package mockserver_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/mux"

	"regsandbox/fixtures"
	"regsandbox/mockserver"
	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/onegini"
	// Named inspector: server_test.go declares a type named recorder.
	inspector "regsandbox/mockserver/recorder"
	"regsandbox/mockserver/script"
	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// The hot paths of the mock, measured through [mockserver.Server.ServeHTTP]
// with an httptest.ResponseRecorder (so the figures include routing, the
// guards, fault matching and recording, whatever the server wraps around
// the back ends), and
// the recording overhead, measured on the back ends' own routes with and
// without a recorder. `make bench` (scripts/bench.sh) runs them with
// -benchmem; tools/loadgen shows the allocs/op of BenchmarkServeBackchannel,
// BenchmarkServeRegisterTraditional and BenchmarkServeAuthNative310 as the
// server's allocations per request of its load scenarios.

// benchSeq makes e-mail addresses, display names and social identities
// unique across every benchmark of the run.
var benchSeq atomic.Int64

// benchCall is a request that a benchmark repeats.
type benchCall struct {
	method, path string
	header       http.Header
	// body returns the body of the i-th request; nil sends none.
	body   func(i int64) string
	status int
	expect []byte
}

// request builds the i-th request as the HTTP server would hand it over
// from a loopback client. It avoids httptest.NewRequest, which parses
// the request from text with a fresh 4 KiB reader and would add its own
// allocations to the server's.
func (c benchCall) request(i int64) *http.Request {
	var body io.Reader = http.NoBody
	if c.body != nil {
		body = strings.NewReader(c.body(i))
	}
	req, err := http.NewRequest(c.method, "http://127.0.0.1:8080"+c.path, body)
	if err != nil {
		panic(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	req.RequestURI = c.path
	maps.Copy(req.Header, c.header)
	return req
}

// serve sends the i-th request to h and checks the answer.
func (c benchCall) serve(h http.Handler, i int64) error {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, c.request(i))
	if w.Code != c.status || !bytes.Contains(w.Body.Bytes(), c.expect) {
		return fmt.Errorf("%s %s answered %d: %.300s", c.method, c.path, w.Code, w.Body.Bytes())
	}
	return nil
}

// backchannelCall is the Onegini seed backchannel call; the ExampleId
// script runs for every call.
func backchannelCall() benchCall {
	basic := base64.StdEncoding.EncodeToString([]byte("example-api-client:example-api-secret"))
	return benchCall{method: http.MethodPost, path: "/oauth/api/v3/custom-registration/ExampleId/backchannel",
		header: http.Header{"Authorization": {"Basic " + basic}, "Content-Type": {"application/json"}},
		body:   func(int64) string { return `{"data":"{\"custom_key\":\"custom_data\"}"}` },
		status: http.StatusOK, expect: []byte(`"status":2000`)}
}

// registerCall is the Capture seed traditional registration with a unique
// e-mail address and display name each time: form parsing, every rule of
// every field, a password hash and the user's write.
func registerCall() benchCall {
	base := url.Values{"client_id": {"12345abcde12345abcde12345abcde12"}, "flow": {"standard"},
		"flow_version": {"20190618143040022299"}, "locale": {"en-US"}, "redirect_uri": {"http://localhost"},
		"response_type": {"token"}, "form": {"registrationForm"}, "newPassword": {"password123"},
		"newPasswordConfirm": {"password123"}, "lastName": {"Doe"}, "firstName": {"John"},
		"birthdate[dateselect_year]": {"1930"}, "birthdate[dateselect_month]": {"11"},
		"birthdate[dateselect_day]": {"3"}}.Encode()
	return benchCall{method: http.MethodPost, path: "/oauth/register_native_traditional",
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		body: func(i int64) string {
			n := strconv.FormatInt(i, 10)
			return base + "&emailAddress=bench" + n + "%40example.com&displayName=Bench" + n
		},
		status: http.StatusOK, expect: []byte(`"stat":"ok"`)}
}

// authNativeCall signs in with social tokens whose identities have no
// account: Capture's first answer, 310 record_not_found.
func authNativeCall(tokens []string) benchCall {
	base := url.Values{"client_id": {"12345abcde12345abcde12345abcde12"}, "flow": {"standard"},
		"flow_version": {"67890def-6789-defg-6789-67890defgh67"}, "locale": {"en-US"},
		"redirect_uri": {"http://localhost"}}.Encode()
	return benchCall{method: http.MethodPost, path: "/oauth/auth_native",
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		body:   func(i int64) string { return base + "&token=" + tokens[i%int64(len(tokens))] },
		status: http.StatusOK, expect: []byte(`"code":310`)}
}

// flowCall downloads a flow document: routing, a workspace lookup and
// JSON encoding, no database.
func flowCall() benchCall {
	return benchCall{method: http.MethodGet,
		path:   "/widget_data/flows/example-app/standard/20190618143040022299/en-US.json",
		status: http.StatusOK, expect: []byte("{")}
}

// notFoundCall is routing alone: no route matches.
func notFoundCall() benchCall {
	return benchCall{method: http.MethodGet, path: "/oauth/no_such_endpoint",
		status: http.StatusNotFound, expect: []byte("not_found")}
}

// benchServer is a server on a fresh database: in memory, or on disk
// with synchronous writes as the binary opens it.
func benchServer(b *testing.B, onDisk bool) *mockserver.Server {
	b.Helper()
	opts := storage.Options{InMemory: true}
	if onDisk {
		opts = storage.Options{Dir: b.TempDir(), SyncWrites: true}
	}
	db, err := storage.Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := mockserver.New(db)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		srv.Close()
		db.Close()
	})
	return srv
}

// mintBenchTokens mints n social tokens for identities without accounts.
func mintBenchTokens(b *testing.B, c *capture.Backend, n int) []string {
	b.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		id := strconv.FormatInt(benchSeq.Add(1), 10)
		var err error
		tokens[i], err = c.MintSocialToken(workspace.SocialToken{Provider: "google", Identifier: "bench-" + id,
			Email: "social" + id + "@example.com", FirstName: "A", LastName: "B", DisplayName: "AB"})
		if err != nil {
			b.Fatal(err)
		}
	}
	return tokens
}

// benchmarkServe repeats call through h, one request at a time.
func benchmarkServe(b *testing.B, h http.Handler, call benchCall) {
	b.ReportAllocs()
	for b.Loop() {
		if err := call.serve(h, benchSeq.Add(1)); err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkServeParallel repeats call through h from 16 goroutines per
// CPU, as concurrent clients do; ns/op is then wall time per request.
func benchmarkServeParallel(b *testing.B, h http.Handler, call benchCall) {
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := call.serve(h, benchSeq.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkServeBackchannel(b *testing.B) {
	benchmarkServe(b, benchServer(b, false), backchannelCall())
}

func BenchmarkServeRegisterTraditional(b *testing.B) {
	benchmarkServe(b, benchServer(b, false), registerCall())
}

// BenchmarkServeRegisterTraditionalSynced registers on disk with a synced
// write per registration, from concurrent clients (Badger groups their
// commits): 1e9 / ns/op is registrations per second.
func BenchmarkServeRegisterTraditionalSynced(b *testing.B) {
	benchmarkServeParallel(b, benchServer(b, true), registerCall())
}

func BenchmarkServeAuthNative310(b *testing.B) {
	srv := benchServer(b, false)
	benchmarkServe(b, srv, authNativeCall(mintBenchTokens(b, srv.Capture(), 256)))
}

func BenchmarkServeFlowDocument(b *testing.B) {
	benchmarkServe(b, benchServer(b, false), flowCall())
}

func BenchmarkServeNotFound(b *testing.B) {
	benchmarkServe(b, benchServer(b, false), notFoundCall())
}

// backendRoutes serves both back ends on one router with nothing around
// them, as a baseline that holds no recorder whatever the server wires.
func backendRoutes(b *testing.B, db *storage.DB) (*mux.Router, *capture.Backend) {
	b.Helper()
	ws, err := workspace.Parse(fixtures.DefaultWorkspace)
	if err != nil {
		b.Fatal(err)
	}
	current := func() *workspace.Workspace { return ws }
	c, err := capture.New(db, current)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	o, err := onegini.New(db, current, script.NewEngine())
	if err != nil {
		b.Fatal(err)
	}
	r := mux.NewRouter()
	c.Routes(r)
	o.Routes(r)
	r.Use(inspector.TagEndpoint)
	return r, c
}

// BenchmarkRecordingOverhead serves calls through the back ends' routes
// with the recorder off, then on (its writer storing every exchange, in
// the timed part: the run ends with a flush). Both run from concurrent
// clients so the writer competes for the CPUs as it does under load.
// Overhead = on / off − 1; "dropped/op" > 0 means the writer fell behind
// even so, and the overhead is understated.
func BenchmarkRecordingOverhead(b *testing.B) {
	calls := map[string]func(*testing.B, *capture.Backend) benchCall{
		"backchannel": func(*testing.B, *capture.Backend) benchCall { return backchannelCall() },
		"auth_native": func(b *testing.B, c *capture.Backend) benchCall {
			return authNativeCall(mintBenchTokens(b, c, 256))
		},
		"flow": func(*testing.B, *capture.Backend) benchCall { return flowCall() },
	}
	for _, name := range []string{"backchannel", "auth_native", "flow"} {
		for _, on := range []bool{false, true} {
			b.Run(name+"/"+map[bool]string{false: "off", true: "on"}[on], func(b *testing.B) {
				benchmarkRecording(b, calls[name], on)
			})
		}
	}
}

// benchmarkRecording is one half of BenchmarkRecordingOverhead.
func benchmarkRecording(b *testing.B, call func(*testing.B, *capture.Backend) benchCall, on bool) {
	db, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	router, c := backendRoutes(b, db)
	var h http.Handler = router
	var rec *inspector.Recorder
	if on {
		// A queue longer than any run here, so that every exchange is
		// stored and paid for: with the default queue a writer that falls
		// behind drops exchanges, and the cost seems lower than it is.
		rec = inspector.New(db, inspector.WithQueue(1<<16))
		b.Cleanup(func() { rec.Close() })
		h = rec.Wrap(router)
	}
	benchmarkServeParallel(b, h, call(b, c))
	if rec != nil {
		rec.Flush()
		b.ReportMetric(float64(rec.Stats().Dropped)/float64(b.N), "dropped/op")
	}
}
