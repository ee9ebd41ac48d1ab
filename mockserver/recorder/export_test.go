package recorder

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// harSchema is HAR 1.2 as the spec writes it: for each object, its
// required members and their types, then its optional ones. A member
// whose name starts with "_" is a custom one, which the spec allows.
var harSchema = map[string]struct{ required, optional map[string]string }{
	"document": {map[string]string{"log": "object:log"}, nil},
	"log": {map[string]string{"version": "string", "creator": "object:creator", "entries": "array:entry"},
		map[string]string{"browser": "object:creator", "pages": "array", "comment": "string"}},
	"creator": {map[string]string{"name": "string", "version": "string"}, map[string]string{"comment": "string"}},
	"entry": {map[string]string{"startedDateTime": "string", "time": "number", "request": "object:request",
		"response": "object:response", "cache": "object:cache", "timings": "object:timings"},
		map[string]string{"pageref": "string", "serverIPAddress": "string", "connection": "string", "comment": "string"}},
	"request": {map[string]string{"method": "string", "url": "string", "httpVersion": "string", "cookies": "array:cookie",
		"headers": "array:pair", "queryString": "array:pair", "headersSize": "number", "bodySize": "number"},
		map[string]string{"postData": "object:postData", "comment": "string"}},
	"response": {map[string]string{"status": "number", "statusText": "string", "httpVersion": "string",
		"cookies": "array:cookie", "headers": "array:pair", "content": "object:content", "redirectURL": "string",
		"headersSize": "number", "bodySize": "number"}, map[string]string{"comment": "string"}},
	"cookie": {map[string]string{"name": "string", "value": "string"}, map[string]string{"path": "string",
		"domain": "string", "expires": "string", "httpOnly": "bool", "secure": "bool", "comment": "string"}},
	"pair":     {map[string]string{"name": "string", "value": "string"}, map[string]string{"comment": "string"}},
	"postData": {map[string]string{"mimeType": "string"}, map[string]string{"params": "array:param", "text": "string", "comment": "string"}},
	"param": {map[string]string{"name": "string"}, map[string]string{"value": "string", "fileName": "string",
		"contentType": "string", "comment": "string"}},
	"content": {map[string]string{"size": "number", "mimeType": "string"}, map[string]string{"compression": "number",
		"text": "string", "encoding": "string", "comment": "string"}},
	"cache": {nil, map[string]string{"beforeRequest": "object", "afterRequest": "object", "comment": "string"}},
	"timings": {map[string]string{"send": "number", "wait": "number", "receive": "number"}, map[string]string{
		"blocked": "number", "dns": "number", "connect": "number", "ssl": "number", "comment": "string"}},
}

// checkHAR validates v as an object of kind against harSchema.
func checkHAR(t *testing.T, where, kind string, v any) {
	t.Helper()
	obj, ok := v.(map[string]any)
	if !ok {
		t.Errorf("%s: %T, want a %s object", where, v, kind)
		return
	}
	s := harSchema[kind]
	for name, typ := range s.required {
		if _, ok := obj[name]; !ok {
			t.Errorf("%s: required %q missing", where, name)
		}
		_ = typ
	}
	for name, x := range obj {
		typ, ok := s.required[name]
		if !ok {
			typ, ok = s.optional[name]
		}
		if !ok && !strings.HasPrefix(name, "_") {
			t.Errorf("%s: unknown member %q", where, name)
			continue
		}
		checkHARType(t, where+"."+name, typ, x)
	}
}

func checkHARType(t *testing.T, where, typ string, x any) {
	t.Helper()
	base, sub, _ := strings.Cut(typ, ":")
	switch base {
	case "string", "number", "bool":
		want := map[string]string{"string": "string", "number": "float64", "bool": "bool"}[base]
		if got := fmt.Sprintf("%T", x); got != want {
			t.Errorf("%s: %s, want %s", where, got, base)
		}
	case "object":
		if sub != "" {
			checkHAR(t, where, sub, x)
		} else if _, ok := x.(map[string]any); !ok {
			t.Errorf("%s: not an object", where)
		}
	case "array":
		items, ok := x.([]any)
		if !ok {
			t.Errorf("%s: %T, want an array", where, x)
		}
		for i, item := range items {
			if sub != "" {
				checkHAR(t, fmt.Sprintf("%s[%d]", where, i), sub, item)
			}
		}
	}
}

func TestHARIsValid(t *testing.T) {
	t.Parallel()
	rec, _ := recordSecrets(t)
	call{method: "GET", path: "/__admin/health?x=1&y=%20z"}.send(rec.Wrap(okHandler()))
	page, err := rec.List(Query{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := HAR("https://localhost:8443/", page.Exchanges, false)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	checkHAR(t, "har", "document", doc)

	var typed harDocument
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&typed); err != nil {
		t.Fatal(err)
	}
	equal(t, "version", typed.Log.Version, "1.2")
	equal(t, "creator", typed.Log.Creator.Name, "RegSandbox")
	equal(t, "entries", len(typed.Log.Entries), len(page.Exchanges))
	for i, e := range typed.Log.Entries {
		ex := page.Exchanges[i]
		started, err := time.Parse(time.RFC3339Nano, e.StartedDateTime)
		if err != nil || !started.Equal(ex.Time.Truncate(time.Millisecond)) || !strings.Contains(e.StartedDateTime, ".") {
			t.Errorf("startedDateTime %q (%v), want %v with milliseconds", e.StartedDateTime, err, ex.Time)
		}
		equal(t, "time is the sum of the timings", e.Time, e.Timings.Send+e.Timings.Wait+e.Timings.Receive)
		u, err := url.Parse(e.Request.URL)
		if err != nil || u.Scheme != "https" || u.Host != "localhost:8443" || u.RequestURI() != ex.URL {
			t.Errorf("url %q, want absolute for %q", e.Request.URL, ex.URL)
		}
		equal(t, "status", e.Response.Status, ex.Status)
		equal(t, "status text", e.Response.StatusText, http.StatusText(ex.Status))
		equal(t, "content", e.Response.Content.Text, ex.ResponseBody)
		if ex.RequestBody != "" && (e.Request.PostData == nil || e.Request.PostData.Text != ex.RequestBody) {
			t.Errorf("postData of %s = %+v", ex.Path, e.Request.PostData)
		}
	}
	health := typed.Log.Entries[0]
	equal(t, "queryString", toJSON(t, health.Request.QueryString), `[{"name":"x","value":"1"},{"name":"y","value":" z"}]`)
	equal(t, "no postData without a body", health.Request.PostData == nil, true)
	form := typed.Log.Entries[len(typed.Log.Entries)-1].Request.PostData
	if form == nil || len(form.Params) != 4 || form.MimeType != formType {
		t.Fatalf("form postData = %+v", form)
	}
}

func TestHAREmpty(t *testing.T) {
	t.Parallel()
	raw, err := HAR("", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	contains(t, "empty HAR", string(raw), `"entries": []`)
}

// TestCurl runs the command lines: through sh to check the quoting, and
// through curl (when installed) to check the server gets the same body.
func TestCurl(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, contentType, body string
	}{
		{"form with quotes", formType, url.Values{"lastName": {"O'Brien"}, "displayName": {`it's "me" & $HOME`},
			"birthdate[dateselect_year]": {"1990"}, "emailAddress": {"o@example.com"}}.Encode()},
		{"json with a quote", "application/json", `{"data":"it's","n":1}`},
		{"empty", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := newTestRecorder(t)
			got := make(chan string, 2)
			srv := httptest.NewServer(rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				got <- string(body)
			})))
			defer srv.Close()
			call{path: "/oauth/register_native?x='y'", contentType: tc.contentType, body: tc.body}.send(srv.Config.Handler)
			<-got
			ex := mustGet(t, rec, newest(t, rec).ID, true)
			cmd := Curl(ex, srv.URL, true)
			if strings.Contains(tc.body, "O'Brien") {
				contains(t, "curl", cmd, `'lastName=O'\''Brien'`)
			}
			args := shellArgs(t, cmd)
			equal(t, "url", args[3], srv.URL+"/oauth/register_native?x='y'")
			if _, err := exec.LookPath("curl"); err != nil {
				t.Skip("curl is not installed")
			}
			out, err := exec.Command("sh", "-c", cmd+" --silent --show-error").CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s\n%s", err, out, cmd)
			}
			equal(t, "body sent again", <-got, tc.body)
		})
	}
}

// shellArgs runs the command line with printf instead of curl and returns
// the arguments the shell made of it.
func shellArgs(t *testing.T, cmd string) []string {
	t.Helper()
	script := strings.Replace(cmd, "curl ", `printf '%s\0' curl `, 1)
	out, err := exec.Command("sh", "-c", script).Output()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, cmd)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

func TestCurlShape(t *testing.T) {
	t.Parallel()
	ex := Exchange{Method: "POST", URL: "/oauth/token", Host: "example.test",
		RequestHeaders: map[string][]string{"Content-Type": {formType}, "Authorization": {"Basic abc"},
			"Content-Length": {"20"}, "Accept-Encoding": {"gzip"}},
		RequestBody: "grant_type=refresh_token&refresh_token=rt1&flag"}
	want := `curl -X POST 'http://example.test/oauth/token' \
  -H 'Authorization: Basic ***' \
  -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-urlencode 'grant_type=refresh_token' \
  --data-urlencode 'refresh_token=***' \
  --data-raw 'flag'`
	equal(t, "curl", Curl(ex, "", false), want)
	get := Exchange{Method: "GET", URL: "/entity?access_token=a", Host: "h"}
	equal(t, "GET", Curl(get, "https://localhost:8443", false), `curl 'https://localhost:8443/entity?access_token=***'`)
}

func TestReplay(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	b := newBackend()
	h := rec.Wrap(b.router)
	call{path: "/oauth/register_native_traditional", contentType: formType,
		body:   "client_secret=" + secret + "&newPassword=" + pwNew + "&firstName=Jane",
		header: http.Header{"Authorization": {"Basic " + basicCreds}}}.send(h)
	original := newest(t, rec) // masked, as the admin API sees it
	resp, err := rec.Replay(original, h)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	equal(t, "answer", string(body), `{"stat":"ok"}`)
	equal(t, "the back end got the secret and the masked password", b.lastBody(),
		"client_secret="+secret+"&newPassword="+Mask+"&firstName=Jane")
	equal(t, "recorded again", rec.Count(), 2)
	replayed := mustGet(t, rec, newest(t, rec).ID, true)
	equal(t, "marked", headerValue(replayed.RequestHeaders, ReplayHeader), original.ID)
	equal(t, "authorization", headerValue(replayed.RequestHeaders, "Authorization"), "Basic "+basicCreds)

	cut := Exchange{ID: "none", Method: "POST", URL: "/x", RequestBody: "abc", RequestTruncated: true}
	if _, err := rec.Replay(cut, h); err != ErrTruncated {
		t.Errorf("replaying a cut body: %v, want ErrTruncated", err)
	}
}
