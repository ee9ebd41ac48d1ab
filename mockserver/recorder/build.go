package recorder

import (
	"encoding/json"
	"net/url"
	"strings"
)

// deriveRequest fills Form (a url-encoded body, then the query) and JSON
// from the stored URL and body. They are not stored: the body holds
// them already, and being derived from the stored (masked) body they
// are masked as it is.
func deriveRequest(ex *Exchange) {
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

// outcomeOf applies the outcome rule to an exchange; see [outcome].
func outcomeOf(ex *Exchange, dropped, panicked bool) string {
	var s jsonScan
	s.reset([]byte(ex.ResponseBody), 0)
	s.shape = true
	valid, _ := s.run()
	t := skipSpace(s.b, 0)
	ok := valid && t < len(s.b) && s.b[t] == '{' && !s.statBadType
	return outcome(ex.Endpoint, ex.Status, ex.Fault != "", panicked, dropped,
		ok && s.statNonEmpty, ok && s.statError, ok && s.hasError)
}

// outcome is the outcome rule: a fault or a dropped connection first;
// then Capture answers fail by "stat":"error" (they are HTTP 200), others
// by status or an "error" member. The answer's members are read as
// json.Unmarshal reads them into struct{Stat string; Error
// json.RawMessage}: hasStat says its stat is a non-empty string,
// statError that it is "error", hasError that its error is not null.
func outcome(endpoint string, status int, fault, panicked, dropped, hasStat, statError, hasError bool) string {
	switch {
	case fault:
		return OutcomeFault
	case panicked:
		return OutcomePanic
	case dropped || status == 0:
		return OutcomeDropped
	}
	if strings.HasPrefix(endpoint, "capture.") || hasStat {
		if statError || status >= 400 {
			return OutcomeError
		}
		return OutcomeOK
	}
	if status >= 400 || hasError {
		return OutcomeError
	}
	return OutcomeOK
}
