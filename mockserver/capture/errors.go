package capture

import (
	"encoding/json"
	"net/http"
)

// Error is a Capture error answer. Capture answers errors with HTTP 200
// and "stat":"error" (client libraries raise on stat, and some HTTP
// clients reject non-2xx answers); only /oauth/token answers 400.
type Error struct {
	Code        int
	Name        string
	Description string
	// HTTPStatus is 200 unless the endpoint follows OAuth.
	HTTPStatus int

	ArgumentName     string
	InvalidFields    map[string][]string
	PreregFields     map[string]any
	PreregAttributes map[string]any
	Message          string
	ExistingProvider string
	ExpectedValue    string
	SuppliedValue    string
}

func (e *Error) Error() string { return e.Name + ": " + e.Description }

// body is the JSON of an error in the order Capture writes its keys.
type body struct {
	Stat             string              `json:"stat"`
	Code             int                 `json:"code"`
	ErrorDescription string              `json:"error_description"`
	Error            string              `json:"error"`
	RequestID        string              `json:"request_id"`
	ArgumentName     string              `json:"argument_name,omitempty"`
	InvalidFields    map[string][]string `json:"invalid_fields,omitempty"`
	Message          string              `json:"message,omitempty"`
	PreregFields     map[string]any      `json:"prereg_fields,omitempty"`
	PreregAttributes map[string]any      `json:"prereg_attributes,omitempty"`
	ExistingProvider string              `json:"existing_provider,omitempty"`
	ExpectedValue    string              `json:"expected_value,omitempty"`
	SuppliedValue    string              `json:"supplied_value,omitempty"`
}

// Body returns the JSON document of the error with the given request id.
func (e *Error) Body(requestID string) []byte {
	raw, err := json.Marshal(body{
		Stat: "error", Code: e.Code, ErrorDescription: e.Description, Error: e.Name,
		RequestID: requestID, ArgumentName: e.ArgumentName, InvalidFields: e.InvalidFields,
		Message: e.Message, PreregFields: e.PreregFields, PreregAttributes: e.PreregAttributes,
		ExistingProvider: e.ExistingProvider, ExpectedValue: e.ExpectedValue, SuppliedValue: e.SuppliedValue,
	})
	if err != nil {
		// Every field is a plain string, number or map of them.
		panic("capture: encoding an error: " + err.Error())
	}
	return raw
}

// WriteError answers err in Capture's error shape. It is the only place
// that writes Capture error JSON.
func WriteError(w http.ResponseWriter, e *Error) {
	status := e.HTTPStatus
	if status == 0 {
		status = http.StatusOK
	}
	writeJSON(w, status, e.Body(NewRequestID()))
}

func writeJSON(w http.ResponseWriter, status int, raw []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(raw)
}

// Constructors for the errors the back end raises itself; the whole
// documented list lives in [Catalogue].

func errMissing(names string) *Error {
	return &Error{Code: 100, Name: "missing_argument", Description: "missing arguments: " + names}
}

func errInvalidArgument(arg, description string) *Error {
	return &Error{Code: 200, Name: "invalid_argument", ArgumentName: arg, Description: description}
}

func errNoSuchForm(form string) *Error {
	return &Error{Code: 200, Name: "invalid_argument", Description: "no such form '" + form + "'"}
}

func errInvalidToken() *Error {
	return &Error{Code: 200, Name: "invalid_argument", Description: "the token you passed was not valid"}
}

func errPermission() *Error {
	return &Error{Code: 403, Name: "permission_error", Description: "This client does not support log in and registration."}
}

func errNoFlow(flow, version, locale string) *Error {
	return &Error{Code: 500, Name: "unexpected_error",
		Description: "could not find a flow named '" + flow + "' with version '" + version + "' and locale '" + locale + "'"}
}

func errInvalidFields(fields map[string][]string) *Error {
	return &Error{Code: 390, Name: "invalid_form_fields", Description: "some inputs are invalid", InvalidFields: fields}
}

func errUnexpected(description string) *Error {
	return &Error{Code: 500, Name: "unexpected_error", Description: description}
}
