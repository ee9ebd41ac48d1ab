package recorder

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
)

// pending is an exchange as the middleware saw it, before the writer
// masks, links and encodes it: the request path only copies, and as
// little as it can. Pendings are pooled with their buffers; the writer
// puts each back once it is stored.
type pending struct {
	id       xid
	start    time.Time
	duration float64
	method   string
	// url is the request's own URL, which nothing changes once its
	// handler returned (as with reqHeaderMap): the writer reads it.
	url    *url.URL
	host   string
	remote string
	proto  string
	status int

	reqTruncated, respTruncated bool
	// Headers as flat name, value pairs: copying the strings is all a
	// snapshot needs (they are immutable), where Header.Clone built a map.
	reqHeader, respHeader []string
	// reqHeaderMap is the request's own header map, which the writer
	// turns into reqHeader and the values below: nothing changes a
	// request's headers once its handler returned, and every step taken
	// before the answer leaves costs the client's wait. Pendings built
	// by hand leave it nil and fill reqHeader.
	reqHeaderMap http.Header
	// The values the writer looks up, read from the maps while they are
	// at hand: finding them in the pairs later cost more than the copy.
	reqType, reqAuth, respType string
	// reqBody is what next reads through the teed body; it stays the
	// pending's own (next gets copies), and is pooled with it.
	reqBody  []byte
	respBody []byte
	notes    Notes
	panicked bool
}

var pendingPool = sync.Pool{New: func() any { return new(pending) }}

// maxPooledBody bounds the answer buffer a pooled pending keeps, so that
// a few large answers do not pin memory for good.
const maxPooledBody = 16 << 10

func newPending() *pending { return pendingPool.Get().(*pending) }

// release puts p back in the pool, keeping its buffers.
func (p *pending) release() {
	*p = pending{reqHeader: p.reqHeader[:0], respHeader: p.respHeader[:0], reqBody: p.reqBody[:0],
		respBody: p.respBody[:0]}
	if cap(p.reqBody) > maxPooledBody {
		p.reqBody = nil
	}
	if cap(p.respBody) > maxPooledBody {
		p.respBody = nil
	}
	pendingPool.Put(p)
}

// takeRequestHeader turns the request's header map into pairs and the
// values the writer looks up; the writer calls it.
func (p *pending) takeRequestHeader() {
	if p.reqHeaderMap == nil {
		return
	}
	p.reqHeader, p.reqType, p.reqAuth = snapshotHeader(p.reqHeader[:0], p.reqHeaderMap)
}

// snapshotAnswerHeader keeps the answer's headers as they are now: the
// handler may change the map after it sent them.
func (p *pending) snapshotAnswerHeader(h http.Header) {
	p.respHeader, p.respType, _ = snapshotHeader(p.respHeader, h)
}

// snapshotHeader appends h as name, value pairs, and returns the first
// values of the canonical names Content-Type and Authorization, noted on
// the way: looking them up in the map afterwards hashed each name again.
func snapshotHeader(dst []string, h http.Header) (pairs []string, contentType, authorization string) {
	for name, vals := range h {
		if len(vals) == 0 {
			continue
		}
		switch name {
		case "Content-Type":
			contentType = vals[0]
		case "Authorization":
			authorization = vals[0]
		}
		for _, v := range vals {
			dst = append(dst, name, v)
		}
	}
	return dst, contentType, authorization
}

// Wrap returns next with every exchange recorded. It fits gorilla/mux's
// Use too. The request body reaches next intact; the answer is captured
// on its way out and handed to the background writer, never waiting for
// the database. The request's headers are recorded as they are when next
// returns: the writer reads them, off the request's path (no handler of
// RegSandbox changes them).
func (r *Recorder) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.closed.Load() || r.paused.Load() || (r.skip != nil && r.skip(req)) {
			next.ServeHTTP(w, req)
			return
		}
		slot, outer := captureOf(req)
		if outer {
			next.ServeHTTP(w, req) // an outer Wrap records this request
			return
		}
		r.serve(w, req, next, slot)
	})
}

// capture is what recording one request takes besides the pending: its
// Notes, the writer that captures the answer and the teed body.
type capture struct {
	notes Notes
	cw    captureWriter
	tee   teedBody
}

// notesContext carries the request's capture: context.WithValue and the
// capture in one allocation, as they live exactly as long. It is never
// pooled: a handler may keep its context, writer or body. Requests of a
// connection with a [connSlot] do without.
type notesContext struct {
	context.Context
	capture
}

func (c *notesContext) Value(key any) any {
	switch key.(type) {
	case notesKey:
		return &c.notes
	case captureKey:
		return c
	}
	return c.Context.Value(key)
}

// captureKey finds the innermost capture in a request's context: a
// *notesContext or a *connSlot.
type captureKey struct{}

// captureOf looks the capture up once (a context chain is walked to its
// end when it holds none): whether an outer Wrap records req already, as
// a notesContext or a busy slot says, and else the connection slot that
// can record req, an HTTP/1 request.
func captureOf(req *http.Request) (free *connSlot, recorded bool) {
	switch c := req.Context().Value(captureKey{}).(type) {
	case *notesContext:
		return nil, true
	case *connSlot:
		if c.busy.Load() {
			return nil, true
		}
		if req.ProtoMajor == 1 {
			return c, false
		}
	}
	return nil, false
}

// connSlot is the capture of an HTTP/1 connection, which serves its
// requests one after the other: each recorded request uses it in turn
// instead of a notesContext of its own, whose allocation and copy of
// the request (WithContext) the client waited for. HTTP/2 streams share
// their connection and take the notesContext. See [Recorder.ConnContext].
type connSlot struct {
	context.Context
	// busy says a request of the connection is being recorded, so its
	// notes are the request's.
	busy atomic.Bool
	capture
}

func (s *connSlot) Value(key any) any {
	switch key.(type) {
	case notesKey:
		if s.busy.Load() {
			return &s.notes
		}
	case captureKey:
		return s
	}
	return s.Context.Value(key)
}

// ConnContext gives each connection a slot for the recorder; set it as
// the http.Server's ConnContext. Without it every recorded request gets
// a context of its own, which works the same and costs a little more.
func (r *Recorder) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return &connSlot{Context: ctx}
}

// release ends the slot's request, dropping what it captured.
func (s *connSlot) release() {
	s.capture = capture{}
	s.busy.Store(false)
}

// serve records req, in slot when it has one free.
func (r *Recorder) serve(w http.ResponseWriter, req *http.Request, next http.Handler, slot *connSlot) {
	p := newPending()
	p.id, p.start = r.ids.next()
	var c *capture
	if slot != nil {
		slot.busy.Store(true)
		defer slot.release()
		c = &slot.capture
	} else {
		ctx := &notesContext{Context: req.Context()}
		req = req.WithContext(ctx)
		c = &ctx.capture
	}
	notes := &c.notes
	p.reqBody, p.reqTruncated = r.teeBody(req, &c.tee, p.reqBody)
	p.reqHeaderMap = req.Header
	cw := &c.cw
	*cw = captureWriter{w: w, p: p, notes: notes, max: r.maxBody}
	defer func() {
		// A panicking handler is recorded too, then the panic goes on
		// so net/http behaves as without the recorder.
		if v := recover(); v != nil {
			p.panicked = !errors.Is(asError(v), http.ErrAbortHandler)
			notes.Dropped = notes.Dropped || !p.panicked
			r.finish(p, req, cw, notes)
			panic(v)
		}
	}()
	next.ServeHTTP(cw, req)
	r.finish(p, req, cw, notes)
}

// since is the time elapsed from start, an exchange's start. A start
// read from the wall clock carries a monotonic reading, and time.Since
// then reads the monotonic clock alone (time.Now reads two clocks, ~30
// ns each here); a start from a clock without one, such as a test's, is
// measured by the recorder's clock.
func (r *Recorder) since(start time.Time) time.Duration {
	if start != start.Round(0) { // Round(0) strips the monotonic reading
		return time.Since(start)
	}
	return r.now().Sub(start)
}

func asError(v any) error {
	err, _ := v.(error)
	return err
}

// finish completes p after next returned and queues it.
func (r *Recorder) finish(p *pending, req *http.Request, cw *captureWriter, notes *Notes) {
	p.duration = float64(r.since(p.start)) / float64(time.Millisecond)
	p.method, p.url, p.host, p.remote, p.proto = req.Method, req.URL, req.Host, req.RemoteAddr, req.Proto
	p.status, p.respTruncated = cw.status, cw.truncated
	if !cw.wroteHeader && !cw.hijacked && !p.panicked && !notes.Dropped {
		p.status = http.StatusOK
	}
	if !cw.wroteHeader && !cw.hijacked {
		p.snapshotAnswerHeader(cw.w.Header())
	}
	// From now on the writer owns p: a handler that writes after
	// returning (which net/http forbids) must not reach it.
	cw.p = nil
	p.notes = *notes
	if p.notes.Endpoint == "" {
		p.notes.Endpoint = r.endpointOf(req)
	}
	r.enqueue(p)
}

// teeBody reads up to the cap of the body into buf's memory and puts
// back a body that yields everything, read or not, so next sees what the
// client sent. net/http never reads the teed body after the handler (it
// drains and closes the body it made), so buf is the pending's again once
// the exchange is stored.
func (r *Recorder) teeBody(req *http.Request, tee *teedBody, buf []byte) ([]byte, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return buf[:0], false
	}
	read, err := readUpTo(buf[:0], req.Body, r.maxBody+1, req.ContentLength)
	tee.closer = req.Body
	tee.read.Reset(read)
	if err != nil || len(read) > r.maxBody {
		// Not all of it was read: the rest, or the error, follows.
		tee.more = req.Body
	}
	req.Body = tee
	if len(read) > r.maxBody {
		return read[:r.maxBody], true
	}
	return read, false
}

// readUpTo reads at most limit bytes into buf's memory, growing it once
// to the announced length so that a small body costs one allocation at
// most. It returns no error at the end of the body.
func readUpTo(buf []byte, body io.Reader, limit int, contentLength int64) ([]byte, error) {
	size := 512
	if contentLength >= 0 {
		// One more byte than announced, to see the end without growing.
		size = int(min(contentLength+1, int64(limit)))
	}
	buf = slices.Grow(buf[:0], size)
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// teedBody yields what teeBody read, then the rest of the body, as
// io.MultiReader over a bytes.Reader did in three allocations.
type teedBody struct {
	read   bytes.Reader
	more   io.Reader
	closer io.Closer
}

func (b *teedBody) Read(p []byte) (int, error) {
	if b.read.Len() > 0 {
		return b.read.Read(p)
	}
	if b.more != nil {
		return b.more.Read(p)
	}
	return 0, io.EOF
}

func (b *teedBody) Close() error { return b.closer.Close() }

// captureWriter passes the answer through and keeps a copy of its status,
// headers and the first bytes of its body in the pending exchange.
type captureWriter struct {
	w           http.ResponseWriter
	p           *pending // nil once the exchange is queued
	notes       *Notes
	max         int
	status      int
	truncated   bool
	wroteHeader bool
	hijacked    bool
}

func (c *captureWriter) Header() http.Header { return c.w.Header() }

func (c *captureWriter) WriteHeader(status int) {
	if !c.wroteHeader && (status >= 200 || status == http.StatusSwitchingProtocols) {
		// Informational answers (100, 103) come before the real one.
		c.wroteHeader, c.status = true, status
		// The headers as sent: the handler may change the map later.
		if c.p != nil {
			c.p.snapshotAnswerHeader(c.w.Header())
		}
	}
	c.w.WriteHeader(status)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	if p := c.p; p != nil {
		if room := c.max - len(p.respBody); len(b) > room {
			c.truncated = true
			p.respBody = append(p.respBody, b[:max(room, 0)]...)
		} else {
			p.respBody = append(p.respBody, b...)
		}
	}
	return c.w.Write(b)
}

// Flush keeps streaming answers (server-sent events) streaming.
func (c *captureWriter) Flush() {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(c.w).Flush()
}

// Hijack hands the connection over, as fault injection does to drop it;
// the exchange is then recorded as dropped.
func (c *captureWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(c.w).Hijack()
	if err == nil {
		c.hijacked = true
		c.notes.Dropped = true
	}
	return conn, rw, err
}

// Unwrap lets [http.ResponseController] reach the connection's own
// writer for deadlines and the like.
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.w }

// TagEndpoint is a gorilla/mux middleware that tells the recorder the name
// of the route that matched. Add it to the router (router.Use) when
// [Recorder.Wrap] wraps the whole router, where the route is not known
// yet.
func TagEndpoint(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if n := NotesFrom(req.Context()); n != nil && n.Endpoint == "" {
			if route := mux.CurrentRoute(req); route != nil {
				n.Endpoint = route.GetName()
			}
		}
		next.ServeHTTP(w, req)
	})
}
