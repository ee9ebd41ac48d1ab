package faults

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"

	"regsandbox/mockserver/capture"
)

// Back ends an [Entry] belongs to.
const (
	BackendCapture = "capture"
	BackendOnegini = "onegini"
)

// Entry is one documented error answer of a back end, as the designers'
// gallery shows it and fault rules name it.
type Entry struct {
	// ID names the entry in fault rules: "capture.invalid_form_fields",
	// "onegini.idp_disabled".
	ID string `json:"id"`
	// Backend is BackendCapture or BackendOnegini.
	Backend string `json:"backend"`
	// Code is Capture's numeric code ("390") or Onegini's error code
	// ("invalid_client").
	Code string `json:"code"`
	// Name is the error field of the answer.
	Name string `json:"name"`
	// Status is the HTTP status. Capture answers its errors with 200 (see
	// [Render] for /oauth/token).
	Status int `json:"status"`
	// Description says, for people, when the back end answers this.
	Description string `json:"description"`
	// Endpoints are the endpoint ids where the error can happen.
	Endpoints []string `json:"endpoints"`
	// Body is the exact answer, with an example request_id for Capture.
	Body json.RawMessage `json:"body"`
	// Messages are the answer in each locale of the default workspace,
	// for errors whose text comes from the flow's localized messages.
	Messages map[string]json.RawMessage `json:"messages,omitempty"`

	// capture builds the Capture answer again with a fresh request_id;
	// nil for Onegini entries.
	capture *capture.Error
	// localized are the Capture errors behind Messages, by locale.
	localized map[string]*capture.Error
}

// Catalogue returns every documented error of both back ends, Capture's
// first, in code order. The slice and its entries are copies the caller may
// change.
func Catalogue() []Entry {
	entries := catalogue()
	out := make([]Entry, len(entries))
	for i := range entries {
		out[i] = entries[i].clone()
	}
	return out
}

// Lookup returns the catalogue entry with the given id.
func Lookup(id string) (Entry, bool) {
	e := lookup(id)
	if e == nil {
		return Entry{}, false
	}
	return e.clone(), true
}

// Localized returns the entry as the back end answers it for locale, or
// the entry itself when it has no text in that locale.
func (e Entry) Localized(locale string) Entry {
	body, ok := e.Messages[locale]
	if !ok {
		return e
	}
	e.Body = body
	if c := e.localized[locale]; c != nil {
		e.capture = c
	}
	return e
}

// clone copies the parts of e a caller could change in place.
func (e *Entry) clone() Entry {
	out := *e
	out.Endpoints = append([]string(nil), e.Endpoints...)
	out.Body = bytes.Clone(e.Body)
	if e.Messages != nil {
		out.Messages = make(map[string]json.RawMessage, len(e.Messages))
		for k, v := range e.Messages {
			out.Messages[k] = bytes.Clone(v)
		}
	}
	return out
}

// catalogue is built once: the bodies are encoded from the specs below.
var catalogue = sync.OnceValue(func() []Entry {
	return append(captureEntries(), oneginiEntries()...)
})

// index maps entry ids to their place in the catalogue.
var index = sync.OnceValue(func() map[string]int {
	m := map[string]int{}
	for i, e := range catalogue() {
		m[e.ID] = i
	}
	return m
})

// lookup returns the shared entry for id, or nil. Callers must not change it.
func lookup(id string) *Entry {
	i, ok := index()[id]
	if !ok {
		return nil
	}
	return &catalogue()[i]
}

// Response is a complete HTTP answer: what a fault writes, or what
// [Preview] shows before the rule is armed.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Write sends the response.
func (r Response) Write(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range r.Header {
		h[k] = v
	}
	w.WriteHeader(r.Status)
	w.Write(r.Body)
}

// Render returns the answer of e on endpoint, as a live request gets it:
// Capture errors carry a fresh request_id and answer HTTP 200, except on
// /oauth/token (capture.token), which follows OAuth and answers 400.
func Render(e Entry, endpoint string) Response {
	if e.Backend != BackendCapture {
		return Response{Status: e.Status, Header: oneginiHeader(), Body: bytes.Clone(e.Body)}
	}
	status := e.Status
	if endpoint == capture.EndpointToken {
		status = http.StatusBadRequest
	}
	body := bytes.Clone(e.Body)
	if e.capture != nil {
		body = e.capture.Body(capture.NewRequestID())
	}
	return Response{Status: status, Header: captureHeader(), Body: body}
}

// captureHeader is what Capture's error writer sends with every answer.
func captureHeader() http.Header {
	return http.Header{
		"Content-Type":  {"application/json;charset=UTF-8"},
		"Cache-Control": {"no-store"},
	}
}

// oneginiHeader is what the Token Server sends with every JSON answer.
func oneginiHeader() http.Header {
	h := captureHeader()
	h.Set("Pragma", "no-cache")
	return h
}

// captureSpec describes one Capture catalogue entry.
type captureSpec struct {
	err capture.Error
	// id overrides "capture." + err.Name, for a second example of a name.
	id string
	// requestID is the seed's, when the seeds show this error.
	requestID string
	endpoints []string
	about     string
	// localized are the answer in other locales than en-US.
	localized map[string]capture.Error
}

// captureEntries encodes the Capture specs through capture.Error, so the
// gallery shows exactly what Capture's one error writer produces.
func captureEntries() []Entry {
	specs := captureSpecs()
	out := make([]Entry, 0, len(specs))
	for _, s := range specs {
		out = append(out, s.entry())
	}
	return out
}

// entry builds the catalogue entry of s.
func (s captureSpec) entry() Entry {
	id := s.id
	if id == "" {
		id = "capture." + s.err.Name
	}
	rid := s.requestID
	if rid == "" {
		rid = exampleRequestID(id)
	}
	base := s.err
	e := Entry{
		ID: id, Backend: BackendCapture, Code: strconv.Itoa(base.Code), Name: base.Name,
		Status: http.StatusOK, Description: s.about, Endpoints: s.endpoints,
		Body: base.Body(rid), capture: &base,
	}
	if len(s.localized) > 0 {
		e.Messages = map[string]json.RawMessage{defaultLocale: e.Body}
		e.localized = map[string]*capture.Error{defaultLocale: &base}
		for locale, le := range s.localized {
			e.Messages[locale] = le.Body(rid)
			e.localized[locale] = &le
		}
	}
	return e
}

// defaultLocale is the locale of the seeds' examples.
const defaultLocale = "en-US"

// exampleRequestID derives a request id for an example body from the
// entry id, so the gallery's examples stay the same from run to run.
func exampleRequestID(id string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	h := fnv.New64a()
	h.Write([]byte(id))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0))
	b := make([]byte, 16)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}
