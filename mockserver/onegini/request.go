package onegini

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"regsandbox/mockserver/workspace"
)

// request is the decoded body of a custom registration call.
type request struct {
	// form reports a url-encoded body, the only kind that may carry
	// client credentials.
	form          bool
	clientID      string
	clientSecret  string
	data          string
	transactionID string
	// scopes is nil when the request named none.
	scopes []string
	// err is a malformed body, answered after the access checks so that
	// a caller without credentials learns nothing from it.
	err *apiError
}

// defaultMaxBody bounds bodies when the workspace sets no limit.
const defaultMaxBody = 1 << 20

// readRequest reads and decodes the body of r, at most limit bytes.
func readRequest(w http.ResponseWriter, r *http.Request, limit int64) *request {
	if limit <= 0 {
		limit = defaultMaxBody
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &request{err: errInvalidRequest(descBodyTooLarge)}
		}
		return &request{err: errInvalidRequest(descMalformedBody)}
	}
	if isForm(r.Header.Get("Content-Type")) {
		return decodeForm(raw)
	}
	return decodeJSONBody(raw)
}

// isForm reports a url-encoded content type. Anything else is read as
// JSON, as clients often leave the content type out.
func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// decodeForm reads a url-encoded body.
func decodeForm(raw []byte) *request {
	v, err := url.ParseQuery(string(raw))
	if err != nil {
		return &request{err: errInvalidRequest(descMalformedBody)}
	}
	req := &request{
		form:          true,
		clientID:      v.Get("client_id"),
		clientSecret:  v.Get("client_secret"),
		data:          v.Get("data"),
		transactionID: v.Get("transaction_id"),
	}
	for _, s := range v["scope"] {
		req.scopes = append(req.scopes, strings.Fields(s)...)
	}
	return req
}

// jsonBody holds the JSON parameters undecoded, so a wrong type can be
// told apart from an absent one.
type jsonBody struct {
	Data          json.RawMessage `json:"data"`
	TransactionID json.RawMessage `json:"transaction_id"`
	Scope         json.RawMessage `json:"scope"`
}

// decodeJSONBody reads a JSON body; unknown parameters are ignored, as the
// Token Server does.
func decodeJSONBody(raw []byte) *request {
	raw = stripComments(raw)
	if len(bytes.TrimSpace(raw)) == 0 {
		return &request{}
	}
	var body jsonBody
	if err := json.Unmarshal(raw, &body); err != nil {
		return &request{err: errInvalidRequest(descMalformedBody)}
	}
	req := &request{}
	var ok bool
	if req.data, ok = optionalString(body.Data); !ok {
		return &request{err: errInvalidRequest(descDataNotString)}
	}
	if req.transactionID, ok = optionalString(body.TransactionID); !ok {
		return &request{err: errInvalidRequest(descTransactionBad)}
	}
	if req.scopes, ok = decodeScope(body.Scope); !ok {
		return &request{err: errInvalidRequest(descScopeMalformed)}
	}
	return req
}

// optionalString decodes a JSON string; absent and null are "".
func optionalString(raw json.RawMessage) (string, bool) {
	if isNull(raw) {
		return "", true
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// decodeScope decodes the scope parameter: an array of scopes, as the
// documentation shows, or one space-separated string, as OAuth writes it.
func decodeScope(raw json.RawMessage) ([]string, bool) {
	if isNull(raw) {
		return nil, true
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.Fields(s), true
	}
	return nil, false
}

// isNull reports an absent or null JSON value.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// stripComments removes // and /* */ comments outside JSON strings. The
// documentation's examples annotate their bodies that way, and a user
// pasting one should get the documented answer, not a parse error.
func stripComments(raw []byte) []byte {
	if !bytes.Contains(raw, []byte("/")) {
		return raw
	}
	out := make([]byte, 0, len(raw))
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString:
			out = append(out, c)
			if c == '\\' && i+1 < len(raw) {
				i++
				out = append(out, raw[i])
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
			out = append(out, c)
		case c == '/' && i+1 < len(raw) && raw[i+1] == '/':
			i = skipUntil(raw, i+2, "\n") - 1
		case c == '/' && i+1 < len(raw) && raw[i+1] == '*':
			i = skipUntil(raw, i+2, "*/") + 1
			out = append(out, ' ')
		default:
			out = append(out, c)
		}
	}
	return out
}

// skipUntil returns the index of the first end at or after from, or
// len(raw) when there is none.
func skipUntil(raw []byte, from int, end string) int {
	if n := bytes.Index(raw[from:], []byte(end)); n >= 0 {
		return from + n
	}
	return len(raw)
}

// clientKind says which client list an endpoint authenticates against.
type clientKind int

const (
	// apiClient: server-to-server clients (backchannel).
	apiClient clientKind = iota
	// appClient: the mobile apps' clients (init, complete).
	appClient
)

// authenticate finds the client by HTTP Basic credentials or, failing
// those, by the client_id and client_secret of a url-encoded body.
func authenticate(r *http.Request, o *workspace.Onegini, kind clientKind, body *request) (workspace.OneginiClient, *apiError) {
	id, secret, ok := r.BasicAuth()
	if !ok && body.form {
		id, secret = body.clientID, body.clientSecret
	}
	if id == "" {
		return workspace.OneginiClient{}, errInvalidClient()
	}
	lookup := o.AppClient
	if kind == apiClient {
		lookup = o.APIClient
	}
	client, found := lookup(id)
	if !found || subtle.ConstantTimeCompare([]byte(client.Secret), []byte(secret)) != 1 {
		return workspace.OneginiClient{}, errInvalidClient()
	}
	return client, nil
}
