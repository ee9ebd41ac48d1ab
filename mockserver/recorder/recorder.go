// Package recorder is the inspector's store: a middleware that records
// every exchange (request, decoded form or JSON, answer, timing, endpoint,
// fault and script notes) into Badger without slowing the answer, and the
// queries, flow timelines, subscriptions and exports (HAR 1.2, curl,
// replay) that the window and the admin API build on.
//
// Secrets never leave the package in clear unless a caller asks: passwords
// are masked for good before anything is stored; client secrets,
// Authorization and Cookie headers, tokens and codes are stored as sent
// (so that [Recorder.Replay] can send them again) and masked on every read
// that does not ask to reveal them. See [Mask].
//
// Wiring: wrap the whole router, so that unknown paths are recorded too,
// and let the router name the endpoint:
//
//	router.Use(recorder.TagEndpoint)
//	handler := rec.Wrap(router)
//
// Layers inside (fault injection, back ends) annotate the exchange
// through [NotesFrom]. Reads ([Recorder.List], [Recorder.Get], …) first
// wait for the exchanges already answered, so a client finds its call
// right after the answer.
package recorder

import (
	"hash/maphash"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/sys/cpu"

	"regsandbox/storage"
)

// Defaults of a [Recorder].
const (
	DefaultLimit   = 100_000
	DefaultMaxAge  = 7 * 24 * time.Hour
	DefaultMaxBody = 64 << 10
	// DefaultQueue is how many exchanges may wait for the writer before
	// the oldest waiting ones are dropped.
	DefaultQueue = 4096
)

const (
	// maxBatch bounds how many exchanges one write holds. Each write
	// costs Badger and the writer a fixed part (a transaction, the
	// segment file's write, memtable bookkeeping, retention's deletes, a
	// hand-off to Badger's goroutines); under load a batch fills in about
	// 35 ms at 1,024, and 256 cost the backchannel call 2–3 points more
	// of recording overhead (one server switching between the two at
	// run time, 20 rounds of 2 s, twice). Below that rate linger decides.
	maxBatch = 1024
	// absorbBatch is how many queued exchanges wake the writer to take
	// them in: few enough that the pendings are still in the cache.
	absorbBatch = 32
	// linger is how long the writer waits for more exchanges before
	// writing a partial batch: with synchronous writes each batch costs
	// an fsync, so a short wait under load saves many.
	linger = 50 * time.Millisecond
	// subscriberBuffer is how many events a slow subscriber may lag.
	subscriberBuffer = 256
)

// Recorder records exchanges and answers questions about them.
type Recorder struct {
	db         *storage.DB
	now        func() time.Time
	endpointOf func(*http.Request) string
	skip       func(*http.Request) bool
	maxBody    int
	queueSize  int

	limit  atomic.Int64
	maxAge atomic.Int64

	// wake tells the writer that the first exchange arrived or that a
	// batch is full. A channel per exchange woke the writer for each one.
	wake     chan struct{}
	flushReq chan chan struct{}
	done     chan struct{}
	stopped  chan struct{}
	closing  sync.Once
	closed   atomic.Bool
	// paused lets calls through unrecorded (see [Recorder.SetPaused]).
	paused atomic.Bool

	// What every request writes lies on cache lines of its own: the
	// queue and the ID source. Next to what every request only reads,
	// or to what the writer changes, each write made the other core
	// fetch the line again.
	_ cpu.CacheLinePad
	// queue holds the exchanges waiting for the writer, oldest first, in
	// a ring. pending counts them with those the writer took in but has
	// not stored yet.
	queueMu sync.Mutex
	queue   []*pending
	qHead   int
	qLen    int
	pending int
	_       cpu.CacheLinePad
	ids     idSource
	_       cpu.CacheLinePad

	// storeMu serializes batch writes, trimming and Clear, so the
	// in-memory count always matches what is stored.
	storeMu  sync.Mutex
	oldestNS int64
	// horizon is where retention has deleted up to (see segment.go);
	// readers read it from their transaction.
	horizon xid
	// segs is the stored segments; the writer files them under storeMu.
	segs   segmentDir
	links  *linkIndex
	stored atomic.Int64

	subsMu sync.Mutex
	subs   map[chan Exchange]struct{}
	// nSubs lets the writer skip building events nobody reads.
	nSubs atomic.Int32

	// w is the writer's scratch, reused from batch to batch.
	w writerState
	// linkSeed hashes link values, blobSeeds bodies.
	linkSeed  maphash.Seed
	blobSeeds [2]maphash.Seed
	// blobs is what the writer knows of the stored blobs; storeMu.
	blobs blobCache

	recorded    atomic.Uint64
	dropped     atomic.Uint64
	writeErrors atomic.Uint64
	lastErr     atomic.Pointer[string]
}

// Option configures a [Recorder].
type Option func(*Recorder)

// WithLimit sets how many exchanges are kept; the oldest go first.
func WithLimit(n int) Option { return func(r *Recorder) { r.limit.Store(int64(n)) } }

// WithMaxAge sets how long exchanges are kept.
func WithMaxAge(d time.Duration) Option { return func(r *Recorder) { r.maxAge.Store(int64(d)) } }

// WithClock replaces the wall clock, for tests of retention.
func WithClock(now func() time.Time) Option { return func(r *Recorder) { r.now = now } }

// WithEndpointFunc replaces how the endpoint id of a request is found
// when no inner layer set [Notes.Endpoint]. The default is the name of
// the gorilla/mux route that matched, which is only known when the
// middleware runs inside the router (router.Use); around the router, add
// [TagEndpoint] to the router instead.
func WithEndpointFunc(fn func(*http.Request) string) Option {
	return func(r *Recorder) { r.endpointOf = fn }
}

// WithSkip leaves requests for which skip returns true unrecorded, such as
// the inspector's own event stream.
func WithSkip(skip func(*http.Request) bool) Option { return func(r *Recorder) { r.skip = skip } }

// SkipAdmin is a skip function for [WithSkip] that leaves the admin API
// unrecorded: its answers (lists of exchanges, the event stream) would
// otherwise fill the store with copies of itself.
func SkipAdmin(r *http.Request) bool {
	return r.URL.Path == "/__admin" || strings.HasPrefix(r.URL.Path, "/__admin/")
}

// WithMaxBody sets how many bytes of each body are kept.
func WithMaxBody(n int) Option { return func(r *Recorder) { r.maxBody = n } }

// WithQueue sets how many exchanges may wait for the writer.
func WithQueue(n int) Option { return func(r *Recorder) { r.queueSize = n } }

// New returns a recorder over db and starts its writer; [Recorder.Close]
// stops it. It counts what is already stored, so retention holds across
// restarts.
func New(db *storage.DB, opts ...Option) *Recorder {
	r := &Recorder{
		db:         db,
		now:        time.Now,
		endpointOf: routeName,
		maxBody:    DefaultMaxBody,
		queueSize:  DefaultQueue,
		wake:       make(chan struct{}, 1),
		flushReq:   make(chan chan struct{}),
		done:       make(chan struct{}),
		stopped:    make(chan struct{}),
		links:      newLinkIndex(linkCapacity),
		subs:       map[chan Exchange]struct{}{},
	}
	r.limit.Store(DefaultLimit)
	r.maxAge.Store(int64(DefaultMaxAge))
	for _, opt := range opts {
		opt(r)
	}
	r.queue = make([]*pending, max(r.queueSize, 1))
	r.linkSeed = maphash.MakeSeed()
	r.blobSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	r.blobs.reset()
	r.ids.now = r.now
	r.openFiles()
	r.loadCount()
	go r.run()
	return r
}

// openFiles opens the segment files of a request log on disk. Should
// that fail, the segments are stored in Badger, as in memory, and the
// failure is reported as a write error.
func (r *Recorder) openFiles() {
	if r.db.Dir() == "" {
		return
	}
	files, err := openSegmentFiles(filepath.Join(r.db.Dir(), segmentFilesDir))
	if err != nil {
		r.failed(err)
		return
	}
	r.segs.files = files
}

// routeName is the default endpoint function: the name of the mux route
// that matched.
func routeName(req *http.Request) string {
	if route := mux.CurrentRoute(req); route != nil {
		return route.GetName()
	}
	return ""
}

// SetRetention changes how many exchanges are kept and for how long; a
// limit or age of zero or less keeps the current one. What no longer fits
// is deleted before it returns.
func (r *Recorder) SetRetention(limit int, maxAge time.Duration) {
	if limit > 0 {
		r.limit.Store(int64(limit))
	}
	if maxAge > 0 {
		r.maxAge.Store(int64(maxAge))
	}
	r.Flush()
	r.trimLocked()
}

// Close writes what is waiting, stops the writer and ends every
// subscription. Requests served afterwards are not recorded. The database
// stays open.
func (r *Recorder) Close() error {
	r.closing.Do(func() {
		r.closed.Store(true)
		close(r.done)
		<-r.stopped
		if r.segs.files != nil {
			r.segs.files.close()
		}
		r.subsMu.Lock()
		for ch := range r.subs {
			close(ch)
			delete(r.subs, ch)
		}
		r.nSubs.Store(0)
		r.subsMu.Unlock()
	})
	return nil
}

// Flush waits until every exchange recorded so far is stored. Reads call
// it, so a client that got its answer finds the exchange right after.
func (r *Recorder) Flush() {
	if r.pendingCount() == 0 {
		return
	}
	ack := make(chan struct{})
	select {
	case r.flushReq <- ack:
		<-ack
	case <-r.stopped:
	}
}

// Stats are the recorder's counters.
type Stats struct {
	// Recorded counts exchanges stored since start.
	Recorded uint64 `json:"recorded"`
	// Dropped counts exchanges lost because the writer fell behind.
	Dropped uint64 `json:"dropped"`
	// WriteErrors counts batches the database refused.
	WriteErrors uint64 `json:"write_errors"`
	LastError   string `json:"last_error,omitempty"`
	// Pending is how many exchanges wait for the writer.
	Pending int `json:"pending"`
	// Stored is how many exchanges the database holds.
	Stored int `json:"stored"`
	// Paused is set while calls go unrecorded.
	Paused bool `json:"paused"`
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() Stats {
	s := Stats{Recorded: r.recorded.Load(), Dropped: r.dropped.Load(), WriteErrors: r.writeErrors.Load(),
		Pending: r.pendingCount(), Stored: int(r.stored.Load()), Paused: r.paused.Load()}
	if e := r.lastErr.Load(); e != nil {
		s.LastError = *e
	}
	return s
}

// Subscribe returns a channel that receives every exchange stored from
// now on, masked, and a function that ends the subscription. A subscriber
// that does not keep up misses events; it never slows recording.
func (r *Recorder) Subscribe() (<-chan Exchange, func()) {
	ch := make(chan Exchange, subscriberBuffer)
	r.subsMu.Lock()
	defer r.subsMu.Unlock()
	if r.closed.Load() {
		close(ch)
		return ch, func() {}
	}
	r.subs[ch] = struct{}{}
	r.nSubs.Store(int32(len(r.subs)))
	return ch, func() {
		r.subsMu.Lock()
		defer r.subsMu.Unlock()
		if _, ok := r.subs[ch]; ok {
			delete(r.subs, ch)
			r.nSubs.Store(int32(len(r.subs)))
			close(ch)
		}
	}
}

// publish hands ex to every subscriber that has room.
func (r *Recorder) publish(ex Exchange) {
	r.subsMu.Lock()
	defer r.subsMu.Unlock()
	for ch := range r.subs {
		select {
		case ch <- ex:
		default: // a slow subscriber misses this one
		}
	}
}

// idSource hands out IDs that sort by time and never repeat, even when the
// clock stands still or goes back.
type idSource struct {
	mu     sync.Mutex
	now    func() time.Time
	lastNS int64
	seq    uint32
}

// xid is an exchange ID before it is formatted: the request path and the
// flow index keep it as numbers.
type xid struct {
	ns  int64
	seq uint32
}

func (x xid) String() string { return formatID(x.ns, x.seq) }

// next returns a new ID and the time it stands for.
func (s *idSource) next() (xid, time.Time) {
	t := s.now()
	ns := t.UnixNano()
	s.mu.Lock()
	if ns > s.lastNS {
		s.lastNS, s.seq = ns, 0
	} else if s.seq++; s.seq > 0xffff {
		s.lastNS, s.seq = s.lastNS+1, 0
	}
	id := xid{s.lastNS, s.seq}
	s.mu.Unlock()
	return id, t
}

const hexDigits = "0123456789abcdef"

func formatID(ns int64, seq uint32) string {
	var b [idLen]byte
	return string(appendID(b[:0], xid{ns, seq}))
}

// idLen is the length of a formatted ID.
const idLen = 20

// appendID appends the 20 hex digits of id.
func appendID(dst []byte, id xid) []byte {
	var b [idLen]byte
	u, seq := uint64(id.ns), id.seq
	for i := 15; i >= 0; i-- {
		b[i] = hexDigits[u&0xf]
		u >>= 4
	}
	for i := 19; i >= 16; i-- {
		b[i] = hexDigits[seq&0xf]
		seq >>= 4
	}
	return append(dst, b[:]...)
}

// parseID reads a formatted ID back; ok is false for a malformed one.
func parseID[S ~string | ~[]byte](id S) (xid, bool) {
	if len(id) != idLen {
		return xid{}, false
	}
	ns, ok1 := parseHex(id[:16])
	seq, ok2 := parseHex(id[16:])
	return xid{int64(ns), uint32(seq)}, ok1 && ok2
}

// parseHex reads lower-case hex digits, as appendID writes them.
func parseHex[S ~string | ~[]byte](s S) (uint64, bool) {
	var u uint64
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			u = u<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			u = u<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return u, true
}

// cmp orders IDs as their formatted strings sort.
func (x xid) cmp(y xid) int {
	switch {
	case x.ns != y.ns:
		if uint64(x.ns) < uint64(y.ns) {
			return -1
		}
		return 1
	case x.seq < y.seq:
		return -1
	case x.seq > y.seq:
		return 1
	}
	return 0
}

func (x xid) less(y xid) bool { return x.cmp(y) < 0 }

// addNS moves the time of an ID by d, stopping at the first and the last
// ID there can be.
func addNS(ns, d int64) int64 {
	u := uint64(ns)
	switch {
	case d < 0 && u < uint64(-d):
		return 0
	case d < 0:
		return int64(u - uint64(-d))
	case u > math.MaxUint64-uint64(d):
		return -1 // all f's
	}
	return int64(u + uint64(d))
}
