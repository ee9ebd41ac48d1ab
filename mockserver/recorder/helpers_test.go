package recorder

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/gorilla/mux"

	"regsandbox/storage"
)

// openDB opens a request log on disk, as a server's, or in memory when
// REGSANDBOX_TEST_MEMORY is set: `make test` runs this package both ways.
func openDB(t testing.TB) *storage.DB {
	t.Helper()
	opts := storage.Options{Dir: t.TempDir(), Log: true}
	if os.Getenv("REGSANDBOX_TEST_MEMORY") != "" {
		opts = storage.Options{InMemory: true}
	}
	db, err := storage.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newTestRecorder returns a recorder over a fresh database, closed when
// the test ends.
func newTestRecorder(t testing.TB, opts ...Option) *Recorder {
	t.Helper()
	rec := New(openDB(t), opts...)
	t.Cleanup(func() { rec.Close() })
	return rec
}

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Microsecond) // every reading is later
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// backend is a router with named routes that answer like the two back
// ends, enough for the recorder to have something to record. Each
// handler reads the whole body and answers what the test scripted.
type backend struct {
	router  *mux.Router
	mu      sync.Mutex
	bodies  []string
	answers map[string]string   // path → JSON answer
	queued  map[string][]string // path → answers to give once each, first
}

func newBackend() *backend {
	b := &backend{router: mux.NewRouter(), answers: map[string]string{}, queued: map[string][]string{}}
	routes := map[string]string{
		"/oauth/register_native_traditional": "capture.register_native_traditional",
		"/oauth/register_native":             "capture.register_native",
		"/oauth/auth_native":                 "capture.auth_native",
		"/oauth/token":                       "capture.token",
		"/entity":                            "capture.entity",
		"/oauth/api/v3/custom-registration/{idp}/backchannel": "onegini.backchannel",
		"/oauth/custom-registration/{idp}/init":               "onegini.init",
		"/oauth/custom-registration/{idp}/complete":           "onegini.complete",
	}
	for path, name := range routes {
		b.router.HandleFunc(path, b.answer).Name(name)
	}
	b.router.HandleFunc("/__admin/health", b.answer)
	return b
}

func (b *backend) script(path, answer string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.answers[path] = answer
}

// queue adds answers that path gives once each, in order.
func (b *backend) queue(path string, answers ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queued[path] = append(b.queued[path], answers...)
}

func (b *backend) answer(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.bodies = append(b.bodies, string(body))
	answer, ok := b.answers[r.URL.Path]
	if q := b.queued[r.URL.Path]; len(q) > 0 {
		answer, ok, b.queued[r.URL.Path] = q[0], true, q[1:]
	}
	b.mu.Unlock()
	if !ok {
		answer = `{"stat":"ok"}`
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	status := http.StatusOK
	if strings.Contains(answer, `"error_description"`) && !strings.Contains(answer, `"stat"`) {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

func (b *backend) lastBody() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bodies[len(b.bodies)-1]
}

// call is one request to send in process.
type call struct {
	method, path, contentType, body string
	header                          http.Header
}

func (c call) send(h http.Handler) *httptest.ResponseRecorder {
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	req := httptest.NewRequest(method, c.path, strings.NewReader(c.body))
	if c.body == "" {
		req = httptest.NewRequest(method, c.path, nil)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

const formType = "application/x-www-form-urlencoded"

// mustGet reads one exchange or fails.
func mustGet(t *testing.T, rec *Recorder, id string, reveal bool) Exchange {
	t.Helper()
	ex, found, err := rec.Get(id, reveal)
	if err != nil || !found {
		t.Fatalf("Get(%s) = found %v, %v", id, found, err)
	}
	return ex
}

// newest returns the most recent exchange, masked.
func newest(t *testing.T, rec *Recorder) Exchange {
	t.Helper()
	page, err := rec.List(Query{Limit: 1})
	if err != nil || len(page.Exchanges) != 1 {
		t.Fatalf("List = %d exchanges, %v", len(page.Exchanges), err)
	}
	return page.Exchanges[0]
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func contains(t *testing.T, what, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s does not contain %q:\n%s", what, sub, s)
	}
}

func lacks(t *testing.T, what, s, sub string) {
	t.Helper()
	if strings.Contains(s, sub) {
		t.Errorf("%s contains %q:\n%s", what, sub, s)
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// waitCount waits until n exchanges are stored, for calls whose client
// returns before the handler does (dropped connections).
func waitCount(t *testing.T, rec *Recorder, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for rec.Count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d exchanges stored, want %d", rec.Count(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// storedEntry is an exchange as its segment holds it.
type storedEntry struct {
	segment  string // the segment's key
	id       xid
	indexed  bool
	sum, rec []byte
}

// storedEntries reads every segment, hidden exchanges included, in key
// order.
func storedEntries(t testing.TB, rec *Recorder) []storedEntry {
	t.Helper()
	var out []storedEntry
	err := rec.db.Badger().View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(keySegment)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			key := string(it.Item().Key())
			stored, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			raw, err := rec.segs.plainSegment(stored)
			if err != nil {
				return err
			}
			entries, _, err := decodeSegment(raw, nil)
			if err != nil {
				return err
			}
			for _, e := range entries {
				out = append(out, storedEntry{segment: key, id: e.id, indexed: e.indexed,
					sum: raw[e.sum.start:e.sum.end], rec: raw[e.rec.start:e.rec.end]})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// plainSegment is the plain value of a segment whose Badger value is
// stored, in memory of its own.
func (d *segmentDir) plainSegment(stored []byte) ([]byte, error) {
	var plain []byte
	found, err := d.withStored(stored, func(raw []byte) error {
		plain = slices.Clone(raw)
		return nil
	})
	if !found && err == nil {
		err = errSegmentGone
	}
	return plain, err
}

// withHeaderValues sets the header values the middleware reads from the
// maps, for a pending built by hand from pairs.
func withHeaderValues(p *pending) *pending {
	p.reqType, p.reqAuth = pairValue(p.reqHeader, "Content-Type"), pairValue(p.reqHeader, "Authorization")
	p.respType = pairValue(p.respHeader, "Content-Type")
	return p
}

// pairValue is the first value of name in name, value pairs, as
// headerValue is for a map.
func pairValue(pairs []string, name string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] == name {
			return pairs[i+1]
		}
	}
	return ""
}

// addPending counts n exchanges handed to the writer by hand, as enqueue
// counts each one, so that storing them balances the count.
func (r *Recorder) addPending(n int) {
	r.queueMu.Lock()
	r.pending += n
	r.queueMu.Unlock()
}
