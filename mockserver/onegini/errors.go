package onegini

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
)

// Error codes the back end answers, as the Token Server names them.
const (
	CodeInvalidClient           = "invalid_client"
	CodeInsufficientPermissions = "insufficient_permissions"
	CodeIdPDisabled             = "idp_disabled"
	CodeInvalidIdP              = "invalid_idp_identifier"
	CodeInternalServerError     = "internal_server_error"
	CodeInvalidScope            = "invalid_scope"
	CodeInvalidProfile          = "invalid_profile"
	// CodeInvalidRequest is RegSandbox's answer to requests the
	// documentation gives no error for: a malformed body, init on a
	// one-step IdP, complete without a valid transaction_id.
	CodeInvalidRequest = "invalid_request"
)

// The error descriptions are the documentation's, so the mock answers what
// an app meets in production.
const (
	descInvalidClient           = "Client credentials used are not valid or client does not exist"
	descInsufficientPermissions = "The API client does not have the required `User registration` scope"
	descIdPDisabled             = "The specified IdP is disabled."
	descInvalidIdP              = "The specified IdP does not exist."
	descInternalServerError     = "The server has encountered an internal server error."
	descInvalidScope            = "The requested scope is invalid, unknown or malformed."
	descInvalidProfile          = "The specified profile is invalid."
)

// apiError is an error answer on its way to [WriteError].
type apiError struct {
	status      int
	code        string
	description string
	// cause is what went wrong inside, for the inspector; it never
	// reaches the client, which sees the documented description only.
	cause error
}

func errInvalidClient() *apiError {
	return &apiError{status: http.StatusBadRequest, code: CodeInvalidClient, description: descInvalidClient}
}

func errInsufficientPermissions() *apiError {
	return &apiError{status: http.StatusForbidden, code: CodeInsufficientPermissions, description: descInsufficientPermissions}
}

func errIdPDisabled() *apiError {
	return &apiError{status: http.StatusForbidden, code: CodeIdPDisabled, description: descIdPDisabled}
}

func errInvalidIdP() *apiError {
	return &apiError{status: http.StatusNotFound, code: CodeInvalidIdP, description: descInvalidIdP}
}

func errInternal(cause error) *apiError {
	return &apiError{status: http.StatusInternalServerError, code: CodeInternalServerError,
		description: descInternalServerError, cause: cause}
}

func errInvalidScope() *apiError {
	return &apiError{status: http.StatusBadRequest, code: CodeInvalidScope, description: descInvalidScope}
}

func errInvalidProfile() *apiError {
	return &apiError{status: http.StatusBadRequest, code: CodeInvalidProfile, description: descInvalidProfile}
}

func errInvalidRequest(description string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: CodeInvalidRequest, description: description}
}

// Descriptions of the invalid_request answers.
const (
	descMalformedBody   = "The request body is not a JSON object or a url-encoded form."
	descDataNotString   = "The data parameter must be a string."
	descScopeMalformed  = "The scope parameter must be an array of strings or a space-separated string."
	descTransactionNone = "The transaction_id parameter is required for a two-step identity provider."
	descTransactionBad  = "The transaction_id is unknown or expired."
	descOneStepInit     = "The specified IdP is a one-step identity provider: it has no init step."
	descBodyTooLarge    = "The request body is too large."
)

// errorBody is Onegini's error document, error first.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// WriteError answers an error in Onegini's shape, with the headers every
// Token Server answer carries. It is the only place that writes Onegini
// error JSON; fault injection uses it too.
func WriteError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, errorJSON(code, description))
}

// errorJSON encodes an error document.
func errorJSON(code, description string) []byte {
	raw, err := marshal(errorBody{Error: code, ErrorDescription: description})
	if err != nil {
		// Two strings always encode.
		panic("onegini: encoding an error: " + err.Error())
	}
	return raw
}

// writeJSON sends raw with the Token Server's JSON headers.
func writeJSON(w http.ResponseWriter, status int, raw []byte) {
	// Header.Set would allocate each value's slice on its own; one array
	// holds all three here, each slice capped so that adding a value to
	// one header cannot write into the next. The keys are canonical.
	v := make([]string, 3)
	v[0], v[1], v[2] = "application/json;charset=UTF-8", "no-store", "no-cache"
	h := w.Header()
	h["Content-Type"] = v[0:1:1]
	h["Cache-Control"] = v[1:2:2]
	h["Pragma"] = v[2:3:3]
	w.WriteHeader(status)
	w.Write(raw)
}

// jsonWriter is a reusable buffer with an encoder writing into it, set up
// as [marshal] encodes.
type jsonWriter struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// jsonWriters recycles the success answers' buffers: each answer is
// copied to the response before its buffer goes back.
var jsonWriters = sync.Pool{New: func() any {
	jw := new(jsonWriter)
	jw.enc = json.NewEncoder(&jw.buf)
	jw.enc.SetEscapeHTML(false)
	return jw
}}

// writeAnswer sends a success answer, encoded as [marshal] would.
func writeAnswer(w http.ResponseWriter, answer any) {
	jw := jsonWriters.Get().(*jsonWriter)
	defer func() {
		if jw.buf.Cap() <= maxPooledBuffer {
			jsonWriters.Put(jw)
		}
	}()
	jw.buf.Reset()
	if err := jw.enc.Encode(answer); err != nil {
		WriteError(w, http.StatusInternalServerError, CodeInternalServerError, descInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, bytes.TrimSuffix(jw.buf.Bytes(), []byte("\n")))
}

// CatalogueEntry is one documented error answer, as the admin API lists
// it and fault rules name it.
type CatalogueEntry struct {
	// ID is "onegini." + Code, e.g. "onegini.idp_disabled".
	ID string
	// Backend is "onegini".
	Backend string
	// Code is the error field of the answer.
	Code string
	// Status is the HTTP status.
	Status int
	// Description says when the error happens and on which endpoints.
	Description string
	// Body is the exact JSON answer.
	Body json.RawMessage
}

// catalogue lists the errors in the order of the documentation's tables.
var catalogue = []struct {
	err  *apiError
	when string
}{
	{errInvalidClient(), "Missing or wrong client credentials, or an unknown client (all endpoints)."},
	{errInsufficientPermissions(), "The API client lacks the User Registration scope (backchannel)."},
	{errIdPDisabled(), "The identity provider is disabled (all endpoints)."},
	{errInvalidIdP(), "The identity provider does not exist (all endpoints)."},
	{errInternal(nil), "The script failed, ran out of budget or returned a malformed result (all endpoints)."},
	{errInvalidScope(), "Complete asked for a scope the app client does not have (complete)."},
	{errInvalidProfile(), "The complete script succeeded without naming a user (complete)."},
	{errInvalidRequest(descTransactionBad), "Not documented by Onegini: RegSandbox's answer to a malformed body, " +
		"init on a one-step IdP, or complete without a valid transaction_id (init, complete)."},
}

// Catalogue returns every error the back end can answer, with its exact
// body. The slice is new on every call.
func Catalogue() []CatalogueEntry {
	out := make([]CatalogueEntry, 0, len(catalogue))
	for _, c := range catalogue {
		out = append(out, CatalogueEntry{
			ID:          "onegini." + c.err.code,
			Backend:     "onegini",
			Code:        c.err.code,
			Status:      c.err.status,
			Description: c.when,
			Body:        errorJSON(c.err.code, c.err.description),
		})
	}
	return out
}
