package recorder

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/mux"
)

// pending is an exchange as the middleware saw it, before the writer
// decodes, masks and links it: the request path only copies.
type pending struct {
	ex       Exchange
	reqBody  []byte
	respBody []byte
	notes    Notes
	start    time.Time
	panicked bool
}

// Wrap returns next with every exchange recorded. It fits gorilla/mux's
// Use too. The request body reaches next intact; the answer is captured
// on its way out and handed to the background writer, never waiting for
// the database.
func (r *Recorder) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// Notes in the context mean an outer Wrap records this one.
		if r.closed.Load() || (r.skip != nil && r.skip(req)) || NotesFrom(req.Context()) != nil {
			next.ServeHTTP(w, req)
			return
		}
		r.serve(w, req, next)
	})
}

func (r *Recorder) serve(w http.ResponseWriter, req *http.Request, next http.Handler) {
	p := &pending{}
	p.ex.ID, p.start = r.ids.next()
	p.ex.Time = p.start.UTC()
	notes := &Notes{}
	req = req.WithContext(context.WithValue(req.Context(), notesKey{}, notes))
	p.reqBody, p.ex.RequestTruncated = r.teeBody(req)
	p.ex.RequestHeaders = req.Header.Clone()
	cw := &captureWriter{w: w, notes: notes, max: r.maxBody}
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

func asError(v any) error {
	err, _ := v.(error)
	return err
}

// finish completes p after next returned and queues it.
func (r *Recorder) finish(p *pending, req *http.Request, cw *captureWriter, notes *Notes) {
	ex := &p.ex
	// p.start keeps the monotonic clock reading that ex.Time lost.
	ex.DurationMS = float64(r.now().Sub(p.start)) / float64(time.Millisecond)
	ex.Method, ex.URL, ex.Path = req.Method, req.URL.RequestURI(), req.URL.Path
	ex.Host, ex.RemoteAddr, ex.Proto = req.Host, req.RemoteAddr, req.Proto
	ex.Status, ex.ResponseTruncated = cw.status, cw.truncated
	if !cw.wroteHeader && !cw.hijacked && !p.panicked && !notes.Dropped {
		ex.Status = http.StatusOK
	}
	ex.ResponseHeaders = cw.header
	if ex.ResponseHeaders == nil && !cw.hijacked {
		ex.ResponseHeaders = cw.w.Header().Clone()
	}
	p.respBody = cw.body.Bytes()
	p.notes = *notes
	if p.notes.Endpoint == "" {
		p.notes.Endpoint = r.endpointOf(req)
	}
	r.enqueue(p)
}

// teeBody reads up to the cap of the body and puts back a body that
// yields everything, read or not, so next sees what the client sent.
func (r *Recorder) teeBody(req *http.Request) ([]byte, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, false
	}
	read, err := readUpTo(req.Body, r.maxBody+1, req.ContentLength)
	var rest io.Reader = bytes.NewReader(read)
	if err != nil || len(read) > r.maxBody {
		// Not all of it was read: the rest, or the error, follows.
		rest = io.MultiReader(rest, req.Body)
	}
	req.Body = &teedBody{Reader: rest, closer: req.Body}
	if len(read) > r.maxBody {
		return read[:r.maxBody], true
	}
	return read, false
}

// readUpTo reads at most limit bytes, sizing its buffer from the
// announced length so that a small body costs one allocation. It returns
// no error at the end of the body.
func readUpTo(body io.Reader, limit int, contentLength int64) ([]byte, error) {
	size := 512
	if contentLength >= 0 {
		// One more byte than announced, to see the end without growing.
		size = int(min(contentLength+1, int64(limit)))
	}
	buf := make([]byte, 0, size)
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

type teedBody struct {
	io.Reader
	closer io.Closer
}

func (b *teedBody) Close() error { return b.closer.Close() }

// enqueue hands p to the writer. When the queue is full the oldest
// waiting exchange makes room: the newest are the ones being looked at.
func (r *Recorder) enqueue(p *pending) {
	r.pendingN.Add(1)
	for {
		select {
		case r.queue <- p:
			return
		default:
		}
		select {
		case <-r.queue:
			r.pendingN.Add(-1)
			r.dropped.Add(1)
		default:
		}
	}
}

// captureWriter passes the answer through and keeps a copy of its status,
// headers and the first bytes of its body.
type captureWriter struct {
	w           http.ResponseWriter
	notes       *Notes
	max         int
	status      int
	header      http.Header
	body        bytes.Buffer
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
		c.header = c.w.Header().Clone()
	}
	c.w.WriteHeader(status)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	if room := c.max - c.body.Len(); len(b) > room {
		c.truncated = true
		c.body.Write(b[:max(room, 0)])
	} else {
		c.body.Write(b)
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
