package recorder

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
)

// build turns what the middleware saw into an exchange: bodies as text,
// the notes, the decoded form or JSON and the outcome. Nothing is masked
// yet; linking needs the clear values first.
func build(p *pending) *Exchange {
	ex := &p.ex
	ex.RequestBody = string(p.reqBody)
	ex.ResponseBody = string(p.respBody)
	ex.Endpoint, ex.Fault, ex.Script = p.notes.Endpoint, p.notes.Fault, p.notes.Script
	decodeRequest(ex)
	ex.Outcome = outcomeOf(ex, p.notes.Dropped, p.panicked)
	return ex
}

// decodeRequest fills Form (a url-encoded body, then the query) and JSON.
func decodeRequest(ex *Exchange) {
	form := url.Values{}
	switch bodyKind(headerValue(ex.RequestHeaders, "Content-Type"), ex.RequestBody) {
	case kindForm:
		// A malformed pair is skipped; the rest still shows.
		body, _ := url.ParseQuery(ex.RequestBody)
		addValues(form, body)
	case kindJSON:
		ex.JSON = decodeJSON(ex.RequestBody)
	}
	if _, query, ok := strings.Cut(ex.URL, "?"); ok {
		q, _ := url.ParseQuery(query)
		addValues(form, q)
	}
	if len(form) > 0 {
		ex.Form = form
	}
}

func addValues(dst, src url.Values) {
	for k, vs := range src {
		dst[k] = append(dst[k], vs...)
	}
}

// decodeJSON decodes a JSON document keeping numbers exact; nil when it
// does not parse (a truncated body, say).
func decodeJSON(s string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return nil
	}
	return v
}

// outcomeOf applies the outcome rule: a fault or a dropped connection
// first; then Capture answers fail by "stat":"error" (they are HTTP 200),
// others by status or an "error" member.
func outcomeOf(ex *Exchange, dropped, panicked bool) string {
	switch {
	case ex.Fault != "":
		return OutcomeFault
	case panicked:
		return OutcomePanic
	case dropped || ex.Status == 0:
		return OutcomeDropped
	}
	stat, hasError := answerShape(ex.ResponseBody)
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

// answerShape reads the "stat" and whether an "error" member is present
// in a JSON object answer.
func answerShape(body string) (stat string, hasError bool) {
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
