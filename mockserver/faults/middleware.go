package faults

import (
	"bytes"
	"io"
	"net/http"

	"github.com/gorilla/mux"

	"regsandbox/mockserver/workspace"
)

// Middleware returns a middleware that applies the engine's rules before
// the back end: endpointOf names the endpoint of a request (see
// [RouteName]), and onFire, when not nil, is told which rule fired before
// it is applied, so the inspector can record it even when the connection
// is then dropped.
//
// The body is read only when a rule's condition needs it, at most the
// engine's maximum body size, and is put back for the back end to read.
// Conditions that fail to evaluate count as not holding.
func (e *Engine) Middleware(endpointOf func(*http.Request) string, onFire func(r *http.Request, rule workspace.Fault)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			endpoint := endpointOf(r)
			d := e.matchRequest(r, endpoint)
			if d == nil {
				next.ServeHTTP(w, r)
				return
			}
			if onFire != nil {
				onFire(r, d.Rule)
			}
			if !d.Apply(w, r, endpoint) {
				next.ServeHTTP(w, r)
			}
		})
	}
}

// matchRequest runs Match, reading the body only when some rule that may
// fire looks at it, so requests no rule is about cost next to nothing.
func (e *Engine) matchRequest(r *http.Request, endpoint string) *Decision {
	set := e.set.Load()
	interested, needsBody := set.interest(endpoint)
	if !interested {
		return nil
	}
	var body []byte
	if needsBody {
		body = e.readBody(r)
	}
	d, _ := e.Match(r, endpoint, body)
	return d
}

// readBody reads up to the engine's limit and puts what it read back in
// front of the rest, so the back end reads the body it would have read. A
// body over the limit, or one that fails to arrive, reads as empty.
func (e *Engine) readBody(r *http.Request) []byte {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, e.maxBody+1))
	r.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(buf), r.Body), Closer: r.Body}
	if err != nil || int64(len(buf)) > e.maxBody {
		return nil
	}
	return buf
}

// readCloser joins the restored body with the original's Close.
type readCloser struct {
	io.Reader
	io.Closer
}

// RouteName returns the name of the gorilla/mux route that matched r,
// which the back ends set to the endpoint id; "" outside a route.
func RouteName(r *http.Request) string {
	if route := mux.CurrentRoute(r); route != nil {
		return route.GetName()
	}
	return ""
}
