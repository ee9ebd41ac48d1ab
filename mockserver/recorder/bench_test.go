package recorder

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"regsandbox/storage"
)

// discardWriter is a reusable ResponseWriter, so the benchmark measures
// the middleware rather than httptest.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

var captureAnswer = []byte(`{"stat":"ok","capture_user":{"uuid":"7d8d4c5e-3f2a-4b1c-9e8d-1a2b3c4d5e6f","created":"2025-03-01 12:00:00.000000 +0000","email":"janedoe@example.com"},"access_token":"z9y8x7w6v5u4t3s2"}`)

// captureRouter is a router with one Capture-like endpoint that reads the
// form and answers like register_native_traditional.
func captureRouter() *mux.Router {
	r := mux.NewRouter()
	r.HandleFunc("/oauth/register_native_traditional", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Write(captureAnswer)
	}).Name("capture.register_native_traditional")
	return r
}

var captureForm = url.Values{"client_id": {"12345abcde12345abcde12345abcde12"}, "flow": {"standard"},
	"flow_version": {"20190618143040022299"}, "locale": {"en-US"}, "redirect_uri": {"http://localhost"},
	"response_type": {"token"}, "form": {"registrationForm"}, "emailAddress": {"janedoe@example.com"},
	"newPassword": {"Password1!"}, "newPasswordConfirm": {"Password1!"}, "firstName": {"Jane"},
	"lastName": {"Doe"}, "displayName": {"jdoe"}}.Encode()

// BenchmarkWrap compares a small Capture POST through the bare router and
// through the recorder. "request path" stalls the writer, so it measures
// only what the request pays (each exchange then pushes the oldest
// waiting one out); "recorded" lets the writer run beside the requests,
// competing for the CPUs; "stored" also waits for the database every 256
// requests: the full cost of keeping every exchange.
func BenchmarkWrap(b *testing.B) {
	bare := captureRouter()
	cases := []struct {
		name         string
		stall, flush bool
	}{{"request path", true, false}, {"recorded", false, false}, {"stored", false, true}}
	b.Run("bare", func(b *testing.B) { benchServe(b, bare, nil) })
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			rec := newTestRecorder(b)
			router := captureRouter()
			router.Use(TagEndpoint)
			var flush func()
			if tc.flush {
				flush = rec.Flush
			}
			if tc.stall {
				rec.storeMu.Lock()
				defer rec.storeMu.Unlock()
			}
			benchServe(b, rec.Wrap(router), flush)
			b.ReportMetric(float64(rec.Stats().Dropped)/float64(b.N), "dropped/op")
		})
	}
}

// BenchmarkRequestPath is what recording adds before an answer can
// leave, against a handler that only reads the body and answers: the
// client waits for every step of it. The writer is stalled, so each
// exchange pushes the oldest waiting one out.
func BenchmarkRequestPath(b *testing.B) {
	answer := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(captureAnswer)
	}
	b.Run("bare", func(b *testing.B) { benchServe(b, http.HandlerFunc(answer), nil) })
	for _, tc := range []struct {
		name string
		slot bool
	}{{"recorded", false}, {"recorded, connection slot", true}} {
		b.Run(tc.name, func(b *testing.B) {
			rec := newTestRecorder(b)
			rec.storeMu.Lock()
			defer rec.storeMu.Unlock()
			ctx := context.Background()
			if tc.slot {
				// As the server's connections are: see ConnContext.
				ctx = rec.ConnContext(ctx, nil)
			}
			benchServeIn(ctx, b, rec.Wrap(http.HandlerFunc(answer)), nil)
		})
	}
}

func benchServe(b *testing.B, h http.Handler, flush func()) {
	benchServeIn(context.Background(), b, h, flush)
}

// benchServeIn is benchServe with ctx as every request's context.
func benchServeIn(ctx context.Context, b *testing.B, h http.Handler, flush func()) {
	body := bytes.NewReader(nil)
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/oauth/register_native_traditional", nil)
	req.Header.Set("Content-Type", formType)
	req.Header.Set("User-Agent", "okhttp/4.12.0")
	req.Header.Set("Accept", "application/json")
	req.ContentLength = int64(len(captureForm))
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		body.Reset([]byte(captureForm))
		req.Body = io.NopCloser(body)
		req.Form, req.PostForm = nil, nil
		clear(w.h)
		h.ServeHTTP(w, req)
		if i++; flush != nil && i%maxBatch == 0 {
			flush()
		}
	}
}

// fill stores n exchanges the way the writer does, without the
// middleware: one in 100 is an Onegini complete with "needle" in its
// answer, the rest Capture registrations, one in 10 failing.
func fill(b *testing.B, rec *Recorder, n int) {
	b.Helper()
	batch := make([]*pending, 0, maxBatch)
	for i := range n {
		p := &pending{}
		p.id, p.start = rec.ids.next()
		p.method, p.proto, p.remote = "POST", "HTTP/1.1", "127.0.0.1:50000"
		p.url = &url.URL{Path: "/oauth/register_native_traditional"}
		p.reqHeader = []string{"Content-Type", formType, "User-Agent", "okhttp/4.12.0"}
		p.respHeader = []string{"Content-Type", "application/json"}
		p.status, p.notes.Endpoint = 200, "capture.register_native_traditional"
		p.reqBody = []byte(captureForm)
		p.respBody = append([]byte(nil), captureAnswer...) // the pool reuses it
		switch {
		case i%100 == 0:
			p.url = &url.URL{Path: "/oauth/custom-registration/QrCodeIdp/complete"}
			p.notes.Endpoint = "onegini.complete"
			p.respBody = []byte(fmt.Sprintf(`{"status":2000,"data":"needle-%d"}`, i))
		case i%10 == 0:
			p.respBody = []byte(`{"stat":"error","code":390,"error":"invalid_form_fields"}`)
		}
		if batch = append(batch, withHeaderValues(p)); len(batch) == maxBatch {
			rec.write(batch)
			batch = batch[:0]
		}
	}
	rec.write(batch)
}

// BenchmarkList lists, pages and filters 100,000 stored exchanges.
func BenchmarkList(b *testing.B) {
	const stored = 100_000
	rec := newTestRecorder(b)
	fill(b, rec, stored)
	if rec.Count() != stored {
		b.Fatalf("stored %d", rec.Count())
	}
	rows, _, _ := rec.ListSummaries(Query{Limit: MaxPage})
	middle := rows[len(rows)-1].ID
	for range stored / MaxPage / 2 {
		rows, _, _ = rec.ListSummaries(Query{Limit: MaxPage, Before: middle})
		middle = rows[len(rows)-1].ID
	}
	cases := []struct {
		name      string
		q         Query
		summaries bool
	}{
		{"page", Query{}, false},
		{"summaries page", Query{}, true},
		{"summaries deep page", Query{Before: middle}, true},
		{"summaries 1000", Query{Limit: MaxPage}, true},
		{"endpoint 1 in 100", Query{Endpoint: "onegini.complete"}, true},
		{"outcome 1 in 10", Query{Outcome: OutcomeError}, true},
		{"text 1 in 100", Query{Text: "needle"}, true},
		{"text no match (full scan)", Query{Text: "nowhere-to-be-found"}, true},
		{"header text, no match (full scan)", Query{Text: "x: nowhere"}, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if tc.summaries {
					_, _, err = rec.ListSummaries(tc.q)
				} else {
					_, err = rec.List(tc.q)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := rec.Get(middle, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// writerCases are exchanges as the server records them: the Onegini
// backchannel seed call, a Capture sign-in answered 310, and the 3.3 KB
// flow document (which names password fields, so it is masked).
func writerCases(b *testing.B) []struct {
	name string
	p    pending
} {
	doc, err := os.ReadFile("testdata/flow_en-US.json")
	if err != nil {
		b.Fatal(err)
	}
	client := []string{"User-Agent", "okhttp/4.12.0", "Accept", "application/json", "Accept-Encoding", "gzip"}
	jsonAnswer := []string{"Content-Type", "application/json;charset=UTF-8", "Cache-Control", "no-store"}
	mk := func(method, path, query, endpoint string, reqHeader []string, reqBody, respBody string) pending {
		p := pending{method: method, proto: "HTTP/1.1", remote: "127.0.0.1:40000", host: "127.0.0.1:8080",
			status: 200, reqHeader: append(client, reqHeader...), respHeader: jsonAnswer,
			reqBody: []byte(reqBody), respBody: []byte(respBody), start: time.Now()}
		p.url, p.notes.Endpoint = &url.URL{Path: path, RawQuery: query}, endpoint
		withHeaderValues(&p)
		return p
	}
	return []struct {
		name string
		p    pending
	}{
		{"backchannel", mk("POST", "/oauth/api/v3/custom-registration/ExampleId/backchannel", "", "onegini.backchannel",
			[]string{"Authorization", "Basic ZXhhbXBsZS1hcGktY2xpZW50OmV4YW1wbGUtYXBpLXNlY3JldA==", "Content-Type", "application/json"},
			`{"data":"{\"custom_key\":\"custom_data\"}"}`, `{"status":2000,"data":"{\"custom_response_key\":\"custom_response_data\"}"}`)},
		{"auth_native", mk("POST", "/oauth/auth_native", "", "capture.auth_native", []string{"Content-Type", formType},
			"client_id=12345abcde12345abcde12345abcde12&flow=standard&flow_version=67890def&locale=en-US&redirect_uri=http%3A%2F%2Flocalhost&token=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA",
			`{"stat":"error","code":310,"error":"record_not_found","error_description":"no user","prereg_fields":{"emailAddress":"social1@example.com","firstName":"A"}}`)},
		{"flow document", mk("GET", "/widget_data/flows/example-app/standard/20190618143040022299/en-US.json", "", "capture.flow",
			nil, "", string(doc))},
	}
}

// BenchmarkWriterEncode is the writer's work per exchange before Badger:
// "before" is the recorder as it was (oracle_test.go: decode the bodies,
// link, mask the whole exchange, encode it as JSON, and mask it again for
// subscribers); "after" is the single pass and the binary record.
func BenchmarkWriterEncode(b *testing.B) {
	rec := newTestRecorder(b)
	for _, tc := range writerCases(b) {
		b.Run(tc.name+"/before", func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				ex := oldExchange(&tc.p)
				if ex.Endpoint != "" {
					oldLinkKeys(ex)
				}
				oldMaskExchange(ex, passwords)
				raw, _ := json.Marshal(ex)
				size = len(raw)
				oldMaskExchange(ex, everything)
			}
			b.ReportMetric(float64(size), "record-bytes")
		})
		b.Run(tc.name+"/after", func(b *testing.B) {
			b.ReportAllocs()
			w := &writerState{}
			var size int
			for b.Loop() {
				w.arena, w.entries = w.arena[:0], w.entries[:0]
				rec.prepare(&w.enc, &tc.p)
				rec.appendEntry(w, &tc.p)
				e := w.entries[0]
				size = e.full.end - e.full.start
			}
			b.ReportMetric(float64(size), "record-bytes")
		})
	}
}

// BenchmarkWriterStore is the writer's whole work per exchange, Badger
// (in memory) included, in batches of maxBatch.
func BenchmarkWriterStore(b *testing.B) {
	for _, tc := range writerCases(b) {
		b.Run(tc.name, func(b *testing.B) {
			rec := newTestRecorder(b)
			batch := make([]*pending, 0, maxBatch)
			b.ReportAllocs()
			for b.Loop() {
				p := newPending()
				reqHeader, respHeader, respBody := p.reqHeader, p.respHeader, p.respBody
				*p = tc.p
				p.id, p.start = rec.ids.next()
				p.reqHeader = append(reqHeader, tc.p.reqHeader...)
				p.respHeader = append(respHeader, tc.p.respHeader...)
				p.respBody = append(respBody, tc.p.respBody...)
				rec.addPending(1)
				if batch = append(batch, p); len(batch) == maxBatch {
					rec.write(batch)
					batch = batch[:0]
				}
			}
			rec.write(batch)
		})
	}
}

// BenchmarkWriterStoreVaried is BenchmarkWriterStore on exchanges that
// differ as a load test's do — each its own client port and duration;
// auth_native's form with one of 2,048 tokens and its 310 answer with
// the token's e-mail address and a request id of its own — stored in a
// request log on disk, as the server's is, so the write to a segment
// file counts here (through Badger's memory-mapped value log, as before
// segment files, page faults and msync made half a microsecond per 100
// bytes stored in the virtual machines the README's figures come from).
// BenchmarkWriterStore stores the same exchange over and over in memory.
func BenchmarkWriterStoreVaried(b *testing.B) {
	for _, tc := range variedCases(b) {
		b.Run(tc.name, func(b *testing.B) {
			db, err := storage.Open(storage.Options{Dir: b.TempDir(), Log: true})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			rec := New(db)
			defer rec.Close()
			batch := make([]*pending, 0, maxBatch)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				v := &tc.exchanges[i%len(tc.exchanges)]
				i++
				p := newPending()
				reqHeader, reqBody, respHeader, respBody := p.reqHeader, p.reqBody, p.respHeader, p.respBody
				*p = *v
				p.id, p.start = rec.ids.next()
				p.reqHeader = reqHeader[:0]
				p.reqBody = append(reqBody, v.reqBody...)
				p.respHeader = append(respHeader, v.respHeader...)
				p.respBody = append(respBody, v.respBody...)
				rec.addPending(1)
				if batch = append(batch, p); len(batch) == maxBatch {
					rec.write(batch)
					batch = batch[:0]
				}
			}
			rec.write(batch)
		})
	}
}

// variedCases are the exchanges of BenchmarkWriterStoreVaried, 4,096 of
// each kind, drawn from a seeded source.
func variedCases(b *testing.B) []struct {
	name      string
	exchanges []pending
} {
	rng := rand.New(rand.NewPCG(7, 11))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	random := func(n int) string {
		s := make([]byte, n)
		for i := range s {
			s[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(s)
	}
	tokens := make([]string, 2048)
	for i := range tokens {
		tokens[i] = random(40)
	}
	base := writerCases(b)
	backchannel, authNative := make([]pending, 4096), make([]pending, 4096)
	for i := range 4096 {
		vary := func(p pending) pending {
			p.remote = fmt.Sprintf("127.0.0.1:%d", 40000+rng.IntN(32))
			p.duration = float64(50_000+rng.IntN(1_000_000)) / 1e6
			// The writer reads the request's headers from its map, as
			// it does the server's.
			p.reqHeaderMap = http.Header{}
			for j := 0; j < len(p.reqHeader); j += 2 {
				p.reqHeaderMap.Add(p.reqHeader[j], p.reqHeader[j+1])
			}
			p.reqHeader = nil
			return p
		}
		backchannel[i] = vary(base[0].p)
		an := vary(base[1].p)
		mail := fmt.Sprintf("social%d@example.com", i%len(tokens))
		an.reqBody = []byte("client_id=12345abcde12345abcde12345abcde12&flow=standard&flow_version=67890def-6789-defg-6789-67890defgh67&locale=en-US&redirect_uri=http%3A%2F%2Flocalhost&token=" + tokens[i%len(tokens)])
		an.respBody = []byte(`{"stat":"error","code":310,"error_description":"user not found","error":"record_not_found","request_id":"` +
			random(16) + `","message":"no user is linked to this social identity yet; register it with /oauth/register_native",` +
			`"prereg_fields":{"displayName":"AB","emailAddress":"` + mail + `","firstName":"A","lastName":"B"},` +
			`"prereg_attributes":{"displayName":"AB","email":"` + mail + `","familyName":"B","givenName":"A"}}`)
		authNative[i] = an
	}
	return []struct {
		name      string
		exchanges []pending
	}{{"backchannel", backchannel}, {"auth_native", authNative}}
}
