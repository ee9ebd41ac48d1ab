package recorder

import (
	"context"
	"time"
)

// Outcomes of an exchange, as the inspector shows and filters them.
const (
	OutcomeOK      = "ok"
	OutcomeError   = "error"
	OutcomeFault   = "fault"
	OutcomeDropped = "dropped"
	OutcomePanic   = "panic"
)

// Exchange is one recorded request and its answer. Passwords in it are
// masked for good before it is stored; the other secrets are stored as
// sent and masked whenever an exchange is read without reveal.
type Exchange struct {
	// ID sorts by start time: 16 hex digits of Unix nanoseconds and a
	// 4-hex-digit counter.
	ID         string    `json:"id"`
	Time       time.Time `json:"time"`
	DurationMS float64   `json:"duration_ms"`

	Method string `json:"method"`
	// URL is the path and query, as the client sent them.
	URL            string              `json:"url"`
	Path           string              `json:"path"`
	Host           string              `json:"host,omitempty"`
	RemoteAddr     string              `json:"remote_addr"`
	Proto          string              `json:"proto"`
	RequestHeaders map[string][]string `json:"request_headers,omitempty"`
	RequestBody    string              `json:"request_body,omitempty"`
	// RequestTruncated says RequestBody holds only the first
	// [DefaultMaxBody] bytes (or the configured cap).
	RequestTruncated bool `json:"request_truncated,omitempty"`
	// Form holds the decoded url-encoded body followed by the query
	// parameters, when the body is a form or there is a query.
	Form map[string][]string `json:"form,omitempty"`
	// JSON is the decoded body when it is JSON.
	JSON any `json:"json,omitempty"`

	Status            int                 `json:"status"`
	ResponseHeaders   map[string][]string `json:"response_headers,omitempty"`
	ResponseBody      string              `json:"response_body,omitempty"`
	ResponseTruncated bool                `json:"response_truncated,omitempty"`

	// Endpoint is the endpoint id ("capture.register_native",
	// "onegini.complete", …), empty for admin calls and unknown paths.
	Endpoint string `json:"endpoint,omitempty"`
	// Fault names the fault rule that answered instead of the back end.
	Fault   string      `json:"fault,omitempty"`
	Script  *ScriptNote `json:"script,omitempty"`
	Outcome string      `json:"outcome"`
	// FlowID links the exchanges of one registration journey: it is the
	// ID of the journey's first exchange.
	FlowID string `json:"flow_id"`
}

// ScriptNote is what the registration script of an Onegini call did.
type ScriptNote struct {
	Slot   string `json:"slot"`
	IdP    string `json:"idp"`
	Status int    `json:"status"`
	Cost   uint64 `json:"cost"`
	Error  string `json:"error,omitempty"`
}

// Summary is the part of an [Exchange] a list row shows.
type Summary struct {
	ID         string    `json:"id"`
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Endpoint   string    `json:"endpoint,omitempty"`
	Status     int       `json:"status"`
	Outcome    string    `json:"outcome"`
	DurationMS float64   `json:"duration_ms"`
	FlowID     string    `json:"flow_id"`
}

// Summary returns the list row of ex.
func (ex *Exchange) Summary() Summary {
	return Summary{ID: ex.ID, Time: ex.Time, Method: ex.Method, Path: ex.Path, Endpoint: ex.Endpoint,
		Status: ex.Status, Outcome: ex.Outcome, DurationMS: ex.DurationMS, FlowID: ex.FlowID}
}

// Notes is what the layers inside the recorder's middleware tell it about
// a request: fault injection names the rule that fired, back ends the
// endpoint and the script result. The middleware reads them once the
// request is answered, on the request's goroutine.
type Notes struct {
	// Fault is the id or name of the fault rule that fired.
	Fault string
	// Dropped says the connection was closed without an answer. Hijacking
	// the connection through the recorder sets it.
	Dropped bool
	Script  *ScriptNote
	// Endpoint overrides the endpoint id the recorder would find itself.
	Endpoint string
}

type notesKey struct{}

// NotesFrom returns the Notes of the request whose context is ctx, or
// nil when the request is not being recorded. Callers that only annotate
// can use the nil-safe setters instead.
func NotesFrom(ctx context.Context) *Notes {
	n, _ := ctx.Value(notesKey{}).(*Notes)
	return n
}

// SetFault records that the fault rule id answered; it does nothing on
// nil Notes.
func (n *Notes) SetFault(id string) {
	if n != nil {
		n.Fault = id
	}
}

// SetDropped records that the connection was dropped; it does nothing on
// nil Notes.
func (n *Notes) SetDropped() {
	if n != nil {
		n.Dropped = true
	}
}

// SetScript records a script result; it does nothing on nil Notes.
func (n *Notes) SetScript(s *ScriptNote) {
	if n != nil {
		n.Script = s
	}
}

// SetEndpoint records the endpoint id; it does nothing on nil Notes.
func (n *Notes) SetEndpoint(id string) {
	if n != nil {
		n.Endpoint = id
	}
}
