package recorder

import (
	"encoding/json"
	"maps"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/). Fields the
// format requires are always written, even when empty; RegSandbox's own
// notes go in "_"-prefixed fields, which the format allows.
type (
	harDocument struct {
		Log harLog `json:"log"`
	}
	harLog struct {
		Version string     `json:"version"`
		Creator harCreator `json:"creator"`
		Entries []harEntry `json:"entries"`
	}
	harCreator struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	harEntry struct {
		StartedDateTime string      `json:"startedDateTime"`
		Time            float64     `json:"time"`
		Request         harRequest  `json:"request"`
		Response        harResponse `json:"response"`
		Cache           struct{}    `json:"cache"`
		Timings         harTimings  `json:"timings"`
		ID              string      `json:"_id"`
		Endpoint        string      `json:"_endpoint,omitempty"`
		Outcome         string      `json:"_outcome,omitempty"`
		Fault           string      `json:"_fault,omitempty"`
		FlowID          string      `json:"_flowId,omitempty"`
	}
	harRequest struct {
		Method      string       `json:"method"`
		URL         string       `json:"url"`
		HTTPVersion string       `json:"httpVersion"`
		Cookies     []harCookie  `json:"cookies"`
		Headers     []harPair    `json:"headers"`
		QueryString []harPair    `json:"queryString"`
		PostData    *harPostData `json:"postData,omitempty"`
		HeadersSize int          `json:"headersSize"`
		BodySize    int          `json:"bodySize"`
	}
	harResponse struct {
		Status      int         `json:"status"`
		StatusText  string      `json:"statusText"`
		HTTPVersion string      `json:"httpVersion"`
		Cookies     []harCookie `json:"cookies"`
		Headers     []harPair   `json:"headers"`
		Content     harContent  `json:"content"`
		RedirectURL string      `json:"redirectURL"`
		HeadersSize int         `json:"headersSize"`
		BodySize    int         `json:"bodySize"`
	}
	harPair struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	harCookie struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	harPostData struct {
		MimeType string    `json:"mimeType"`
		Text     string    `json:"text"`
		Params   []harPair `json:"params,omitempty"`
	}
	harContent struct {
		Size     int    `json:"size"`
		MimeType string `json:"mimeType"`
		Text     string `json:"text,omitempty"`
	}
	harTimings struct {
		Send    float64 `json:"send"`
		Wait    float64 `json:"wait"`
		Receive float64 `json:"receive"`
	}
)

// HAR exports exchanges as a HAR 1.2 document. base is the scheme and
// host the URLs are made absolute with ("https://localhost:8443"); when
// empty, each exchange's own host is used over http. Secrets are masked
// unless reveal is set, which can only reveal what the exchanges hold:
// pass exchanges read with reveal too.
func HAR(base string, exchanges []Exchange, reveal bool) ([]byte, error) {
	doc := harDocument{Log: harLog{Version: "1.2",
		Creator: harCreator{Name: "RegSandbox", Version: version()}, Entries: []harEntry{}}}
	for _, ex := range exchanges {
		if !reveal {
			maskExchange(&ex, everything)
		}
		doc.Log.Entries = append(doc.Log.Entries, harEntryOf(base, &ex))
	}
	return json.MarshalIndent(doc, "", "  ")
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

func harEntryOf(base string, ex *Exchange) harEntry {
	return harEntry{
		StartedDateTime: ex.Time.Format("2006-01-02T15:04:05.000Z07:00"),
		Time:            ex.DurationMS,
		Request:         harRequestOf(base, ex),
		Response:        harResponseOf(ex),
		Timings:         harTimings{Wait: ex.DurationMS},
		ID:              ex.ID, Endpoint: ex.Endpoint, Outcome: ex.Outcome, Fault: ex.Fault, FlowID: ex.FlowID,
	}
}

func harRequestOf(base string, ex *Exchange) harRequest {
	req := harRequest{Method: ex.Method, URL: absoluteURL(base, ex), HTTPVersion: ex.Proto,
		Cookies: requestCookies(ex.RequestHeaders), Headers: harHeaders(ex.RequestHeaders),
		QueryString: []harPair{}, HeadersSize: -1, BodySize: bodySize(ex.RequestBody, ex.RequestTruncated, ex.RequestHeaders)}
	if _, query, ok := strings.Cut(ex.URL, "?"); ok {
		req.QueryString = pairs(query)
	}
	if ex.RequestBody != "" {
		ct := headerValue(ex.RequestHeaders, "Content-Type")
		req.PostData = &harPostData{MimeType: ct, Text: ex.RequestBody}
		if bodyKind(ct, ex.RequestBody) == kindForm {
			req.PostData.Params = pairs(ex.RequestBody)
		}
	}
	return req
}

func harResponseOf(ex *Exchange) harResponse {
	mimeType := headerValue(ex.ResponseHeaders, "Content-Type")
	if mimeType == "" {
		mimeType = "x-unknown"
	}
	return harResponse{Status: ex.Status, StatusText: http.StatusText(ex.Status), HTTPVersion: ex.Proto,
		Cookies: responseCookies(ex.ResponseHeaders), Headers: harHeaders(ex.ResponseHeaders),
		Content:     harContent{Size: len(ex.ResponseBody), MimeType: mimeType, Text: ex.ResponseBody},
		RedirectURL: headerValue(ex.ResponseHeaders, "Location"), HeadersSize: -1,
		BodySize: bodySize(ex.ResponseBody, ex.ResponseTruncated, ex.ResponseHeaders)}
}

// absoluteURL joins base and the exchange's path and query.
func absoluteURL(base string, ex *Exchange) string {
	if base == "" {
		base = "http://" + ex.Host
	}
	return strings.TrimSuffix(base, "/") + ex.URL
}

// bodySize is the size sent: the recorded body, or Content-Length when the
// body was cut.
func bodySize(body string, truncated bool, h map[string][]string) int {
	if !truncated {
		return len(body)
	}
	if n, err := strconv.Atoi(headerValue(h, "Content-Length")); err == nil {
		return n
	}
	return -1
}

// harHeaders lists headers sorted by name, one entry per value.
func harHeaders(h map[string][]string) []harPair {
	out := []harPair{}
	for _, name := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[name] {
			out = append(out, harPair{Name: name, Value: v})
		}
	}
	return out
}

// pairs decodes url-encoded pairs in their order.
func pairs(raw string) []harPair {
	out := []harPair{}
	for _, p := range formPairs(raw) {
		out = append(out, harPair{Name: p.name, Value: p.value})
	}
	return out
}

func requestCookies(h map[string][]string) []harCookie {
	out := []harCookie{}
	for _, line := range h["Cookie"] {
		cookies, _ := http.ParseCookie(line)
		for _, c := range cookies {
			out = append(out, harCookie{Name: c.Name, Value: c.Value})
		}
	}
	return out
}

func responseCookies(h map[string][]string) []harCookie {
	out := []harCookie{}
	for _, line := range h["Set-Cookie"] {
		if c, err := http.ParseSetCookie(line); err == nil {
			out = append(out, harCookie{Name: c.Name, Value: c.Value})
		}
	}
	return out
}
