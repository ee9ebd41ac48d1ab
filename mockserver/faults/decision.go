package faults

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"

	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/workspace"
)

// Errors [Preview] returns for rules that answer nothing themselves.
var (
	ErrDrops         = errors.New("the connection is closed without an answer")
	ErrHangs         = errors.New("the request is held, unanswered, until the client gives up")
	ErrPassesThrough = errors.New("the back end answers, after the delay")
)

// Apply carries out the decision for a request to endpoint: it waits the
// delay, then drops, hangs or answers. It reports whether the request was
// handled; false means the rule only delays and the back end must answer.
// A request whose client gave up during the delay counts as handled.
//
// Dropping needs a connection that can be hijacked (HTTP/1); on HTTP/2 it
// aborts the handler with http.ErrAbortHandler, which resets the stream.
func (d *Decision) Apply(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	if d.Delay > 0 || d.Rule.Hang {
		if !d.wait(w, r) {
			return true
		}
	}
	if d.Rule.Drop {
		dropConnection(w)
		return true
	}
	resp, ok := respond(d.Rule, d.entry, endpoint, d.locale)
	if !ok {
		return false
	}
	resp.Write(w)
	return true
}

// wait sleeps the delay and then, for a hang, until the client gives up.
// It reports whether the request should go on. Closing the engine cuts
// both short and drops the connection, so shutdown need not wait.
func (d *Decision) wait(w http.ResponseWriter, r *http.Request) bool {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(d.engine.ctx, cancel)
	defer stop()
	if d.Delay > 0 && d.engine.sleep(ctx, d.Delay) != nil {
		return d.released(w, r)
	}
	if d.Rule.Hang {
		// net/http notices a client that hangs up only once the body has
		// been read to its end, so read what is left of it.
		if r.Body != nil {
			io.Copy(io.Discard, io.LimitReader(r.Body, d.engine.maxBody))
		}
		<-ctx.Done()
		return d.released(w, r)
	}
	return true
}

// released ends a request whose wait was cut short: nothing is left to
// do when the client left; otherwise the engine closed and the connection
// is dropped. It always reports false.
func (d *Decision) released(w http.ResponseWriter, r *http.Request) bool {
	if r.Context().Err() == nil {
		dropConnection(w)
	}
	return false
}

// dropConnection closes the connection under w without an answer, with
// a TCP reset, as a crashed server or a broken network would.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 cannot hand over its connection; aborting the handler
		// makes the server reset the stream instead of answering.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*tls.Conn); ok {
		// Skip TLS's close_notify: the peer must see a broken connection.
		conn = tc.NetConn()
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		// Linger 0 sends a reset instead of an orderly close.
		tcp.SetLinger(0)
	}
	conn.Close()
}

// Preview returns exactly what rule answers on endpoint (the rule's own
// endpoint when endpoint is empty), so it can be shown before it is armed.
// Capture errors get a fresh request_id, as live requests do. For rules
// that answer nothing themselves it returns ErrDrops, ErrHangs or
// ErrPassesThrough; for an invalid rule, its problems as [*RuleError]s.
// The condition is not looked at: it decides when, not what.
func Preview(rule workspace.Fault, endpoint string) (status int, headers http.Header, body []byte, err error) {
	if problems := checkResponse(rule); len(problems) > 0 {
		return 0, nil, nil, errors.Join(ruleErrors(0, rule, problems)...)
	}
	if endpoint == "" {
		endpoint = rule.Endpoint
	}
	switch {
	case rule.Drop:
		return 0, nil, nil, ErrDrops
	case rule.Hang:
		return 0, nil, nil, ErrHangs
	}
	resp, ok := respond(rule, lookup(rule.Error), endpoint, "")
	if !ok {
		return 0, nil, nil, ErrPassesThrough
	}
	return resp.Status, resp.Header, resp.Body, nil
}

// respond builds the answer of a rule that answers; ok is false for a
// rule that only delays.
func respond(rule workspace.Fault, entry *Entry, endpoint, locale string) (resp Response, ok bool) {
	switch {
	case entry != nil:
		resp = Render(entry.Localized(locale), endpoint)
	case rule.Malformed:
		resp = malformed(endpoint)
	case rule.Body != "" || rule.Status != 0:
		resp = custom(rule.Body)
	default:
		return Response{}, false
	}
	if rule.Status != 0 {
		resp.Status = rule.Status
	}
	for k, v := range rule.Headers {
		resp.Header.Set(k, v)
	}
	return resp, true
}

// custom is a rule's own body, 200 unless the rule sets a status. The
// content type is set here, not sniffed by net/http later, so a preview
// shows it too.
func custom(body string) Response {
	h := http.Header{}
	switch {
	case body == "":
	case json.Valid([]byte(body)):
		h.Set("Content-Type", "application/json;charset=UTF-8")
	default:
		h.Set("Content-Type", http.DetectContentType([]byte(body)))
	}
	return Response{Status: http.StatusOK, Header: h, Body: []byte(body)}
}

// malformedBodies are the first bytes of each endpoint's success answer,
// cut off mid-document as if the connection had broken.
var malformedBodies = map[string]string{
	capture.EndpointRegisterNativeTraditional: `{"stat":"ok","capture_user":{`,
	capture.EndpointRegisterNative:            `{"stat":"ok","capture_user":{`,
	capture.EndpointAuthNative:                `{"stat":"ok","capture_user":{`,
	capture.EndpointAuthNativeTraditional:     `{"stat":"ok","capture_user":{`,
	capture.EndpointToken:                     `{"stat":"ok","access_token":"`,
	capture.EndpointEntity:                    `{"stat":"ok","result":{`,
	capture.EndpointFlow:                      `{"version":"`,
	EndpointOneginiBackchannel:                `{"status":2000,"da`,
	EndpointOneginiInit:                       `{"transaction_id":"`,
	EndpointOneginiComplete:                   `{"status":2000,"oauth_token":{"token_type":"bearer","acc`,
}

// malformed is a cut-off success answer of endpoint, with the status and
// headers the endpoint normally answers with.
func malformed(endpoint string) Response {
	body, ok := malformedBodies[endpoint]
	if !ok {
		body = `{"`
	}
	h := captureHeader()
	if backendOf(endpoint) == BackendOnegini {
		h = oneginiHeader()
	}
	return Response{Status: http.StatusOK, Header: h, Body: []byte(body)}
}

// requestLocale is the locale parameter of a Capture call, from the query
// string (auth_native may carry everything there) or the form body.
func requestLocale(r *http.Request, body []byte) string {
	if l := r.URL.Query().Get("locale"); l != "" {
		return l
	}
	if !isForm(r.Header.Get("Content-Type")) {
		return ""
	}
	return parseForm(string(body))["locale"]
}
