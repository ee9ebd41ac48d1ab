package onegini

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

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

// readRequest reads the body of r, at most limit bytes, into c.raw and
// decodes it into c.body.
func (c *call) readRequest(w http.ResponseWriter, r *http.Request, limit int64) {
	if limit <= 0 {
		limit = defaultMaxBody
	}
	raw, err := readAll(http.MaxBytesReader(w, r.Body, limit), c.raw[:0])
	c.raw = raw
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			c.body.err = errInvalidRequest(descBodyTooLarge)
			return
		}
		c.body.err = errInvalidRequest(descMalformedBody)
		return
	}
	if isForm(r.Header.Get("Content-Type")) {
		decodeForm(raw, &c.body)
		return
	}
	c.scratch = decodeJSONBody(raw, &c.body, c.scratch)
}

// readAll is io.ReadAll into buf, which the caller reuses across requests
// instead of growing a new slice for every body.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	if cap(buf) == 0 {
		buf = make([]byte, 0, 512) // io.ReadAll's first size
	}
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// formType is the media type of a url-encoded body.
const formType = "application/x-www-form-urlencoded"

// isForm reports a url-encoded content type. Anything else is read as
// JSON, as clients often leave the content type out.
func isForm(contentType string) bool {
	// mime.ParseMediaType lower-cases and trims the part before any ";"
	// and makes a map for the parameters. A type that is not the form's
	// cannot become one by parsing, and one without parameters needs no
	// parsing, so only "form; params" pays for it (parameters it cannot
	// parse make the body JSON, as before).
	base, _, hasParams := strings.Cut(contentType, ";")
	if strings.TrimSpace(strings.ToLower(base)) != formType {
		return false
	}
	if !hasParams {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == formType
}

// decodeForm reads a url-encoded body into req.
func decodeForm(raw []byte, req *request) {
	v, err := url.ParseQuery(string(raw))
	if err != nil {
		req.err = errInvalidRequest(descMalformedBody)
		return
	}
	*req = request{
		form:          true,
		clientID:      v.Get("client_id"),
		clientSecret:  v.Get("client_secret"),
		data:          v.Get("data"),
		transactionID: v.Get("transaction_id"),
	}
	for _, s := range v["scope"] {
		req.scopes = append(req.scopes, strings.Fields(s)...)
	}
}

// decodeJSONBody reads a JSON body into req in one pass; unknown parameters
// are ignored, as the Token Server does. It answers exactly as a check
// that the body is UTF-8 and a json.Unmarshal into a struct of
// json.RawMessage fields followed by a decode of each field would (the tests pin this against that
// reference), without the two decodes and their allocations: only data
// and transaction_id are copied out of raw, and unquoting uses scratch,
// which it returns for reuse.
func decodeJSONBody(raw []byte, req *request, scratch []byte) []byte {
	raw = stripComments(raw)
	if len(bytes.TrimSpace(raw)) == 0 {
		return scratch
	}
	// json.Valid is the syntax check json.Unmarshal runs before decoding,
	// and needs no allocation; past it the walk below may assume
	// well-formed JSON.
	if !json.Valid(raw) || !utf8.Valid(raw) {
		// Raw bytes that are not UTF-8 are refused as the Token Server's
		// JSON reader (Jackson) refuses them; json.Unmarshal would have
		// turned them into U+FFFD and run the script on altered data.
		req.err = errInvalidRequest(descMalformedBody)
		return scratch
	}
	var data, transactionID, scope []byte
	i := skipSpace(raw, 0)
	switch raw[i] {
	case 'n':
		// null decodes into nothing.
		return scratch
	case '{':
	default:
		// Any other value cannot fill an object's fields:
		// json.Unmarshal reports an UnmarshalTypeError.
		req.err = errInvalidRequest(descMalformedBody)
		return scratch
	}
	for i = skipSpace(raw, i+1); raw[i] != '}'; i = skipSpace(raw, i) {
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
		keyEnd := skipString(raw, i)
		var key []byte
		key, scratch = unquote(raw[i:keyEnd], scratch)
		i = skipSpace(raw, skipSpace(raw, keyEnd)+1) // past the colon
		end := skipValue(raw, i)
		// Names match as json.Unmarshal matches struct fields: exactly
		// or case-insensitively; the last of repeated keys wins.
		switch {
		case bytes.EqualFold(key, []byte("data")):
			data = raw[i:end]
		case bytes.EqualFold(key, []byte("transaction_id")):
			transactionID = raw[i:end]
		case bytes.EqualFold(key, []byte("scope")):
			scope = raw[i:end]
		}
		i = end
	}
	var ok bool
	if req.data, scratch, ok = optionalString(data, scratch); !ok {
		*req = request{err: errInvalidRequest(descDataNotString)}
	} else if req.transactionID, scratch, ok = optionalString(transactionID, scratch); !ok {
		*req = request{err: errInvalidRequest(descTransactionBad)}
	} else if req.scopes, ok = decodeScope(scope); !ok {
		*req = request{err: errInvalidRequest(descScopeMalformed)}
	}
	return scratch
}

// optionalString decodes a JSON string; absent and null are "". ok is false
// for any other JSON value.
func optionalString(raw, scratch []byte) (s string, _ []byte, ok bool) {
	if isNull(raw) {
		return "", scratch, true
	}
	if raw[0] != '"' {
		return "", scratch, false
	}
	var text []byte
	text, scratch = unquote(raw, scratch)
	return string(text), scratch, true
}

// decodeScope decodes the scope parameter: an array of scopes, as the
// documentation shows, or one space-separated string, as OAuth writes it.
// It is rare enough off the backchannel to keep json.Unmarshal's rules.
func decodeScope(raw []byte) ([]string, bool) {
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
func isNull(raw []byte) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// The walk of decodeJSONBody runs on input json.Valid accepted, so these
// helpers need not check syntax; they only find where tokens end.

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(raw []byte, i int) int {
	for i < len(raw) {
		switch raw[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string starting at raw[i].
func skipString(raw []byte, i int) int {
	for i++; ; i++ {
		switch raw[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// skipValue returns the index just past the value starting at raw[i].
func skipValue(raw []byte, i int) int {
	switch raw[i] {
	case '"':
		return skipString(raw, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch raw[i] {
			case '"':
				i = skipString(raw, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	// A number, true, false or null runs to the next delimiter.
	for i < len(raw) {
		switch raw[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// unquote returns the text of the JSON string quoted, as encoding/json
// decodes it: escapes resolved, unpaired surrogates and invalid UTF-8
// replaced by U+FFFD. A string with nothing to resolve is returned as a
// slice of quoted; otherwise the text is built in scratch, which is
// returned grown for reuse. This is encoding/json's unquoteBytes for
// input json.Valid accepted.
func unquote(quoted, scratch []byte) (text, _ []byte) {
	s := quoted[1 : len(quoted)-1]
	r := 0
	for r < len(s) {
		c := s[r]
		if c == '\\' || c < ' ' {
			break
		}
		if c < utf8.RuneSelf {
			r++
			continue
		}
		rr, size := utf8.DecodeRune(s[r:])
		if rr == utf8.RuneError && size == 1 {
			break
		}
		r += size
	}
	if r == len(s) {
		return s, scratch
	}
	b := append(scratch[:0], s[:r]...)
	for r < len(s) {
		switch c := s[r]; {
		case c == '\\':
			r++
			switch s[r] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := hex4(s[r+1:])
				r += 5
				if utf16.IsSurrogate(rr) {
					// A valid pair is consumed whole; anything else
					// leaves the next escape to be read on its own.
					if r+6 <= len(s) && s[r] == '\\' && s[r+1] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(s[r+2:])); dec != unicode.ReplacementChar {
							b = utf8.AppendRune(b, dec)
							r += 6
							continue
						}
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\' and '/' stand for themselves
				b = append(b, s[r])
			}
			r++
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			// Invalid UTF-8 becomes U+FFFD, byte by byte.
			rr, size := utf8.DecodeRune(s[r:])
			b = utf8.AppendRune(b, rr)
			r += size
		}
	}
	return b, b
}

// hex4 decodes the four hex digits that start s, which json.Valid checked.
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
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
func (c *call) authenticate(r *http.Request, o *workspace.Onegini, kind clientKind) *apiError {
	id, secret, ok := basicAuth(r, c.credentials[:])
	if !ok && c.body.form {
		id, secret = []byte(c.body.clientID), []byte(c.body.clientSecret)
	}
	if len(id) == 0 {
		return errInvalidClient()
	}
	clients := o.AppClients
	if kind == apiClient {
		clients = o.APIClients
	}
	// The first client with the id, as workspace.Onegini.APIClient and
	// AppClient find it; comparing string(id) in place allocates nothing.
	for i := range clients {
		if clients[i].ID == string(id) {
			if subtle.ConstantTimeCompare([]byte(clients[i].Secret), secret) != 1 {
				return errInvalidClient()
			}
			c.client = clients[i]
			return nil
		}
	}
	return errInvalidClient()
}

// basicAuth is r.BasicAuth, decoding into buf rather than a new slice and
// a string: id and secret are slices of buf, or of a new slice when the
// credentials do not fit.
func basicAuth(r *http.Request, buf []byte) (id, secret []byte, ok bool) {
	const prefix = "Basic "
	auth := r.Header.Get("Authorization")
	if len(auth) < len(prefix) || !asciiEqualFold(auth[:len(prefix)], prefix) {
		return nil, nil, false
	}
	encoded := auth[len(prefix):]
	if n := base64.StdEncoding.DecodedLen(len(encoded)); n > len(buf) {
		buf = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(buf, []byte(encoded))
	if err != nil {
		return nil, nil, false
	}
	id, secret, ok = bytes.Cut(buf[:n], []byte(":"))
	if !ok {
		return nil, nil, false
	}
	return id, secret, true
}

// asciiEqualFold is the ASCII-only case folding net/http uses for the
// "Basic " prefix.
func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
