package recorder

// The recorder as it was before the writer read each body once: masking,
// linking and the outcome rule by decoding bodies with encoding/json. It
// is the reference the differential tests hold the new code to.

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/url"
	"strings"
)

// The old tables: request parameters that link, by the kind of value they carry.
var requestLinks = map[string]string{
	"token": "tok", "access_token": "at", "refresh_token": "rt", "code": "code",
	"authorization_code": "code", "transaction_id": "tx", "uuid": "uuid",
	"emailAddress": "mail", "signInEmailAddress": "mail", "email": "mail",
}

// Answer members that link, at any depth (capture_user.uuid, result.email,
// oauth_token.access_token …).
var answerLinks = map[string]string{
	"access_token": "at", "refresh_token": "rt", "authorization_code": "code",
	"transaction_id": "tx", "uuid": "uuid", "email": "mail", "token": "tok",
}

type oldLink struct {
	key  string
	weak bool
}

func oldBodyKind(contentType, body string) kind {
	mt, _, err := mime.ParseMediaType(contentType)
	switch {
	case err == nil && mt == "application/x-www-form-urlencoded":
		return kindForm
	case err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")):
		return kindJSON
	}
	if t := strings.TrimLeft(body, " \t\r\n"); t != "" && (t[0] == '{' || t[0] == '[') {
		return kindJSON
	}
	return kindOther
}

// oldBuild is build, decodeRequest and outcomeOf as they were.
func oldBuild(ex *Exchange, dropped, panicked bool) {
	form := url.Values{}
	switch oldBodyKind(headerValue(ex.RequestHeaders, "Content-Type"), ex.RequestBody) {
	case kindForm:
		body, _ := url.ParseQuery(ex.RequestBody)
		addValues(form, body)
	case kindJSON:
		ex.JSON = oldDecodeJSON(ex.RequestBody)
	}
	if _, query, ok := strings.Cut(ex.URL, "?"); ok {
		q, _ := url.ParseQuery(query)
		addValues(form, q)
	}
	if len(form) > 0 {
		ex.Form = form
	}
	ex.Outcome = oldOutcomeOf(ex, dropped, panicked)
}

func oldOutcomeOf(ex *Exchange, dropped, panicked bool) string {
	switch {
	case ex.Fault != "":
		return OutcomeFault
	case panicked:
		return OutcomePanic
	case dropped || ex.Status == 0:
		return OutcomeDropped
	}
	stat, hasError := oldAnswerShape(ex.ResponseBody)
	if strings.HasPrefix(ex.Endpoint, "capture.") || stat != "" {
		if stat == "error" || ex.Status >= 400 {
			return OutcomeError
		}
		return OutcomeOK
	}
	if ex.Status >= 400 || hasError {
		return OutcomeError
	}
	return OutcomeOK
}

// maskExchange hides what ru covers everywhere in ex: URL, headers, bodies
// and their decoded forms.
func oldMaskExchange(ex *Exchange, ru rule) {
	ex.URL = oldMaskURL(ex.URL, ru)
	ex.RequestHeaders = oldMaskHeaders(ex.RequestHeaders, ru)
	ex.ResponseHeaders = oldMaskHeaders(ex.ResponseHeaders, ru)
	ex.RequestBody = oldMaskBody(ex.RequestBody, headerValue(ex.RequestHeaders, "Content-Type"), ru)
	ex.ResponseBody = oldMaskBody(ex.ResponseBody, headerValue(ex.ResponseHeaders, "Content-Type"), ru)
	ex.Form = oldMaskValues(ex.Form, ru)
	if ex.JSON != nil {
		ex.JSON = oldMaskTree("", ex.JSON, ru)
	}
}

// maskURL masks the query of a path-and-query.
func oldMaskURL(u string, ru rule) string {
	path, query, ok := strings.Cut(u, "?")
	if !ok {
		return u
	}
	return path + "?" + oldMaskQuery(query, ru)
}

// maskQuery masks url-encoded pairs in place, keeping their order and
// encoding, so the result reads (and parses) like what was sent.
func oldMaskQuery(raw string, ru rule) string {
	if raw == "" {
		return raw
	}
	var b strings.Builder
	changed := false
	for i, pair := range strings.Split(raw, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		key, _, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(key)
		if err != nil {
			name = key
		}
		if ru.masks(name, true) {
			pair, changed = key+"="+Mask, true
		}
		b.WriteString(pair)
	}
	if !changed {
		return raw
	}
	return b.String()
}

// maskValues returns v with the covered values masked; v itself is left
// alone.
func oldMaskValues(v map[string][]string, ru rule) map[string][]string {
	var out map[string][]string
	for k, vals := range v {
		if !ru.masks(k, true) {
			continue
		}
		if out == nil {
			out = make(map[string][]string, len(v))
			for k2, vals2 := range v {
				out[k2] = vals2
			}
		}
		masked := make([]string, len(vals))
		for i := range masked {
			masked[i] = Mask
		}
		out[k] = masked
	}
	if out == nil {
		return v
	}
	return out
}

// maskHeaders masks credential headers, keeping the scheme of
// Authorization ("Bearer ***") so the reader still sees how the client
// authenticated. v itself is left alone.
func oldMaskHeaders(h map[string][]string, ru rule) map[string][]string {
	var out map[string][]string
	for name, vals := range h {
		masked, ok := oldMaskHeader(name, vals, ru)
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string][]string, len(h))
			for k, v := range h {
				out[k] = v
			}
		}
		out[name] = masked
	}
	if out == nil {
		return h
	}
	return out
}

func oldMaskHeader(name string, vals []string, ru rule) ([]string, bool) {
	key := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	credential := key == "authorization" || key == "proxy_authorization"
	if ru&secrets != 0 && (credential || key == "cookie" || key == "set_cookie") || ru.masks(key, true) {
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = Mask
			if scheme, _, ok := strings.Cut(v, " "); ok && credential {
				out[i] = scheme + " " + Mask
			}
		}
		return out, true
	}
	return nil, false
}

// maskBody masks a raw body according to its content type: url-encoded
// pairs and JSON values are replaced in place; anything else, and
// truncated JSON, goes through patterns that catch key=value and
// "key": value.
func oldMaskBody(body, contentType string, ru rule) string {
	if body == "" {
		return body
	}
	switch oldBodyKind(contentType, body) {
	case kindForm:
		return oldMaskQuery(body, ru)
	case kindJSON:
		if masked, ok := oldMaskJSON([]byte(body), ru); ok {
			return string(masked)
		}
		if json.Valid([]byte(body)) {
			return body
		}
	}
	return oldMaskLoose(body, ru)
}

func oldMaskLoose(body string, ru rule) string {
	if ru&passwords != 0 && containsFold(body, "password") {
		body = loosePasswordJSON.ReplaceAllString(body, `${1}"`+Mask+`"`)
		body = loosePasswordForm.ReplaceAllString(body, "${1}"+Mask)
	}
	if ru&secrets != 0 {
		body = looseSecretJSON.ReplaceAllString(body, `${1}"`+Mask+`"`)
		body = looseSecretForm.ReplaceAllString(body, "${1}"+Mask)
	}
	return body
}

// maskTree returns a copy of a decoded JSON value with the covered values
// masked; v is left alone, as callers may share it.
func oldMaskTree(key string, v any, ru rule) any {
	_, str := v.(string)
	if ru.masks(key, str) {
		return Mask
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = oldMaskTree(k, x, ru)
		}
		return out
	case []any:
		// Elements inherit the key: "token": ["a", "b"] hides both.
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = oldMaskTree(key, x, ru)
		}
		return out
	case string:
		return oldMaskNested(t, ru)
	}
	return v
}

// maskNested masks JSON carried inside a string, such as the payload of an
// Onegini script in "data".
func oldMaskNested(s string, ru rule) string {
	t := strings.TrimLeft(s, " \t\r\n")
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return s
	}
	if masked, ok := oldMaskJSON([]byte(s), ru); ok {
		return string(masked)
	}
	return s
}

// maskJSON masks the values ru covers in a JSON document by splicing
// replacements into the original bytes, so key order, spacing and
// everything else stay as the client sent them. ok is false when nothing
// was masked or b is not valid JSON.
func oldMaskJSON(b []byte, ru rule) ([]byte, bool) {
	if !json.Valid(b) {
		return b, false
	}
	var cuts []splice
	oldScanValue(b, skipSpace(b, 0), "", ru, &cuts)
	if len(cuts) == 0 {
		return b, false
	}
	out := make([]byte, 0, len(b))
	last := 0
	for _, c := range cuts {
		out = append(out, b[last:c.start]...)
		out = append(out, c.with...)
		last = c.end
	}
	return append(out, b[last:]...), true
}

// scanValue walks the value at b[i] (b is valid JSON), noting the cuts,
// and returns where the value ends. key is the object key the value
// belongs to, inherited by array elements.
func oldScanValue(b []byte, i int, key string, ru rule, cuts *[]splice) int {
	if ru.masks(key, b[i] == '"') {
		end := oldScanValue(b, i, "", 0, nil)
		*cuts = append(*cuts, splice{i, end, maskedJSON})
		return end
	}
	switch b[i] {
	case '{':
		return oldScanObject(b, i, ru, cuts)
	case '[':
		return oldScanArray(b, i, key, ru, cuts)
	case '"':
		end := oldStringEnd(b, i)
		if ru != 0 {
			oldMaskNestedJSON(b, i, end, ru, cuts)
		}
		return end
	}
	end := i
	for end < len(b) && !oldIsJSONDelim(b[end]) {
		end++
	}
	return end
}

func oldScanObject(b []byte, i int, ru rule, cuts *[]splice) int {
	for i++; ; {
		i = skipSpace(b, i)
		switch b[i] {
		case '}':
			return i + 1
		case ',':
			i++
			continue
		}
		keyEnd := oldStringEnd(b, i)
		key := ""
		if ru != 0 {
			key = unquote(b[i:keyEnd])
		}
		i = skipSpace(b, keyEnd) + 1 // the colon
		i = oldScanValue(b, skipSpace(b, i), key, ru, cuts)
	}
}

func oldScanArray(b []byte, i int, key string, ru rule, cuts *[]splice) int {
	for i++; ; {
		i = skipSpace(b, i)
		switch b[i] {
		case ']':
			return i + 1
		case ',':
			i++
			continue
		}
		i = oldScanValue(b, i, key, ru, cuts)
	}
}

// maskNestedJSON masks JSON carried in the string b[start:end].
func oldMaskNestedJSON(b []byte, start, end int, ru rule, cuts *[]splice) {
	j := start + 1
	for j < end && b[j] == ' ' {
		j++
	}
	// An escaped newline or tab may come first too.
	if j >= end || (b[j] != '{' && b[j] != '[' && b[j] != '\\') {
		return
	}
	inner := unquote(b[start:end])
	masked := oldMaskNested(inner, ru)
	if masked == inner {
		return
	}
	quoted, err := json.Marshal(masked)
	if err == nil {
		*cuts = append(*cuts, splice{start, end, quoted})
	}
}

// decodeJSON decodes a JSON document keeping numbers exact; nil when it
// does not parse (a truncated body, say).
func oldDecodeJSON(s string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return nil
	}
	return v
}

// answerShape reads the "stat" and whether an "error" member is present
// in a JSON object answer.
func oldAnswerShape(body string) (stat string, hasError bool) {
	t := strings.TrimLeft(body, " \t\r\n")
	if t == "" || t[0] != '{' {
		return "", false
	}
	var top struct {
		Stat  string          `json:"stat"`
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal([]byte(t), &top) != nil {
		return "", false
	}
	return top.Stat, len(top.Error) > 0 && !bytes.Equal(top.Error, []byte("null"))
}

// linkKeys lists the link values of an exchange, read from the clear
// request and answer.
func oldLinkKeys(ex *Exchange) []oldLink {
	var links []oldLink
	add := func(kind, v string) {
		v = strings.TrimSpace(v)
		if len(v) < 4 {
			return // too short to identify anything
		}
		if kind == "mail" {
			v = strings.ToLower(v)
		}
		links = append(links, oldLink{key: kind + ":" + v, weak: kind == "mail"})
	}
	for name, vals := range ex.Form {
		if kind, ok := requestLinks[name]; ok {
			for _, v := range vals {
				add(kind, v)
			}
		}
	}
	if top, ok := ex.JSON.(map[string]any); ok {
		for name, v := range top {
			if s, ok := v.(string); ok && requestLinks[name] != "" {
				add(requestLinks[name], s)
			}
		}
	}
	if bearer, ok := strings.CutPrefix(headerValue(ex.RequestHeaders, "Authorization"), "Bearer "); ok {
		add("at", bearer)
	}
	oldWalkAnswer(oldDecodeJSON(ex.ResponseBody), "", add)
	if strings.HasPrefix(ex.Endpoint, "onegini.") {
		oldOneginiData(ex, add)
	}
	return links
}

// walkAnswer adds the linking members of a decoded answer.
func oldWalkAnswer(v any, key string, add func(kind, v string)) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			oldWalkAnswer(x, k, add)
		}
	case []any:
		for _, x := range t {
			oldWalkAnswer(x, key, add)
		}
	case string:
		if kind, ok := answerLinks[key]; ok {
			add(kind, t)
		}
	}
}

// oneginiData links the "data" of Onegini calls when it is an identifier,
// as in the QR-code flow: the backchannel answers a uuid that the app
// sends back as the data of complete.
func oldOneginiData(ex *Exchange, add func(kind, v string)) {
	var values []string
	if top, ok := ex.JSON.(map[string]any); ok {
		if s, ok := top["data"].(string); ok {
			values = append(values, s)
		}
	}
	values = append(values, ex.Form["data"]...)
	if top, ok := oldDecodeJSON(ex.ResponseBody).(map[string]any); ok {
		if s, ok := top["data"].(string); ok {
			values = append(values, s)
		}
	}
	for _, v := range values {
		if len(v) >= 8 && len(v) <= 256 && !strings.ContainsAny(v, " \t\r\n{}[]\"") {
			add("data", v)
		}
	}
}

func oldStringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

func oldIsJSONDelim(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
