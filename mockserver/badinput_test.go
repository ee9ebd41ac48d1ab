package mockserver_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// rawAnswer is what came back for bytes written on a connection.
type rawAnswer struct {
	status int
	header http.Header
	body   []byte
}

// sendRaw writes a request exactly as given (path, header and body bytes
// untouched by any client library) and reads the answer, failing the test
// when none comes within the deadline: bad input must not hang the server.
func sendRaw(t *testing.T, addr, method, target string, header map[string]string, body string) rawAnswer {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n")
	for name, value := range header {
		b.WriteString(name + ": " + value + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %.80s: no answer: %v", method, target, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawAnswer{resp.StatusCode, resp.Header, raw}
}

// Shapes of the answers.
const (
	captureError = "capture"  // HTTP 200 {"stat":"error","code","error","error_description"}
	oneginiError = "onegini"  // {"error","error_description"}, no-store
	notFound     = "notfound" // {"error":"not_found", ...}
	redirect     = "redirect" // a cleaned path: 301 to it, never served as is
	oneginiOK    = "onegini-ok"
)

// TestBadInputAnswersInTheAPIShape sends what careless or hostile clients
// send — malformed encodings, bytes that are not UTF-8, the wrong content
// type, JSON of the wrong type, absurd lengths, path tricks — over a real
// connection, and wants each answered promptly in the shape of the API
// that was called, as that API answers it.
func TestBadInputAnswersInTheAPIShape(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	jsonType := map[string]string{"Content-Type": "application/json", "Authorization": "Basic ZXhhbXBsZS1hcGktY2xpZW50OmV4YW1wbGUtYXBpLXNlY3JldA=="}
	textType := map[string]string{"Content-Type": "text/plain", "Authorization": jsonType["Authorization"]}
	onegForm := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": jsonType["Authorization"]}
	seed := seedForm()
	seed.Del("emailAddress")
	seed.Del("displayName")
	seed.Del("firstName")
	base := seed.Encode() // each case adds the fields it is about
	const traditional = "/oauth/register_native_traditional"
	const backchannel = "/oauth/api/v3/custom-registration/ExampleId/backchannel"
	long := strings.Repeat("a", 500_000)

	tests := []struct {
		name           string
		method, target string
		header         map[string]string
		body           string
		status         int
		shape          string
		errName        string // the error (Capture: with its code)
		argument       string // Capture's argument_name
		invalidField   string // a field of Capture's invalid_fields
	}{
		{"form with a bad escape", "POST", traditional, form, base + "&firstName=J&emailAddress=%zz", 200, captureError, "200 invalid_argument", "", ""},
		{"form value not UTF-8, raw", "POST", traditional, form, base + "&firstName=J&displayName=d1&emailAddress=\xff@example.com", 200, captureError, "200 invalid_argument", "emailAddress", ""},
		{"form value not UTF-8, escaped", "POST", traditional, form, base + "&displayName=d2&emailAddress=u2@example.com&firstName=%C3%28", 200, captureError, "200 invalid_argument", "firstName", ""},
		{"form name not UTF-8", "POST", traditional, form, base + "&firstName=J&displayName=d3&emailAddress=u3@example.com&%FF=1", 200, captureError, "200 invalid_argument", "", ""},
		{"JSON sent to a form endpoint", "POST", traditional, map[string]string{"Content-Type": "application/json"}, `{"emailAddress":"u4@example.com"}`, 200, captureError, "100 missing_argument", "", ""},
		{"no content type", "POST", traditional, nil, base + "&firstName=J&emailAddress=u5@example.com", 200, captureError, "100 missing_argument", "", ""},
		{"absurdly long e-mail", "POST", traditional, form, base + "&firstName=J&displayName=d6&emailAddress=" + long + "@example.com", 200, captureError, "390 invalid_form_fields", "", "emailAddress"},
		{"absurdly long name", "POST", traditional, form, base + "&displayName=d7&emailAddress=u7@example.com&firstName=" + long, 200, captureError, "390 invalid_form_fields", "", "firstName"},
		{"NUL in a value", "POST", traditional, form, base + "&firstName=J&displayName=d8&emailAddress=u8%00@example.com", 200, captureError, "390 invalid_form_fields", "", "emailAddress"},
		{"auth_native query not UTF-8", "POST", "/oauth/auth_native?client_id=%FF", nil, "", 200, captureError, "200 invalid_argument", "client_id", ""},

		{"JSON of the wrong type: data", "POST", backchannel, jsonType, `{"data": 12}`, 400, oneginiError, "invalid_request", "", ""},
		{"JSON of the wrong type: array", "POST", backchannel, jsonType, `[]`, 400, oneginiError, "invalid_request", "", ""},
		{"malformed JSON", "POST", backchannel, jsonType, `{"data": "x"`, 400, oneginiError, "invalid_request", "", ""},
		{"JSON not UTF-8", "POST", backchannel, jsonType, "{\"data\": \"\xff\xfe\"}", 400, oneginiError, "invalid_request", "", ""},
		{"form with a bad escape", "POST", backchannel, onegForm, "data=%zz", 400, oneginiError, "invalid_request", "", ""},
		{"no credentials", "POST", backchannel, map[string]string{"Content-Type": "application/json"}, `{"data":"x"}`, 400, oneginiError, "invalid_client", "", ""},
		{"JSON without its content type", "POST", backchannel, textType, `{"data": "x"}`, 200, oneginiOK, "", "", ""},
		{"absurdly long data", "POST", backchannel, jsonType, `{"data": "` + long + `"}`, 200, oneginiOK, "", "", ""},
		{"unknown IdP with markup", "POST", "/oauth/api/v3/custom-registration/%3Cscript%3E/backchannel", jsonType, `{}`, 404, oneginiError, "invalid_idp_identifier", "", ""},

		{"dot segments to the admin API", "GET", "/oauth/../__admin/health", nil, "", 301, redirect, "", "", ""},
		{"encoded dot segments", "POST", "/oauth/api/v3/custom-registration/..%2f..%2f..%2f__admin/backchannel", jsonType, `{}`, 301, redirect, "", "", ""},
		{"doubled slash", "POST", "//oauth/register_native_traditional", form, base, 301, redirect, "", "", ""},
		{"trailing slash", "POST", traditional + "/", form, base, 404, notFound, "", "", ""},
		{"other case", "POST", "/OAUTH/register_native_traditional", form, base, 404, notFound, "", "", ""},
		{"NUL in the path", "POST", traditional + "%00", form, base, 404, notFound, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sendRaw(t, l.HTTPAddr, tc.method, tc.target, tc.header, tc.body)
			if got.status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", got.status, tc.status, got.body)
			}
			if tc.shape == redirect {
				if loc := got.header.Get("Location"); !strings.HasPrefix(loc, "/") || strings.Contains(loc, "..") {
					t.Errorf("Location %q, want a cleaned path", loc)
				}
				return
			}
			if !utf8.Valid(got.body) || !strings.HasPrefix(got.header.Get("Content-Type"), "application/json") {
				t.Fatalf("%s %q is not UTF-8 JSON", got.header.Get("Content-Type"), got.body)
			}
			var answer map[string]any
			if err := json.Unmarshal(got.body, &answer); err != nil {
				t.Fatalf("not JSON: %v: %.300s", err, got.body)
			}
			checkShape(t, tc.shape, answer, got.header, tc.errName, tc.argument, tc.invalidField)
		})
	}
}

// checkShape holds an answer to its API's documented error shape.
func checkShape(t *testing.T, shape string, answer map[string]any, header http.Header, errName, argument, invalidField string) {
	t.Helper()
	switch shape {
	case captureError:
		desc, _ := answer["error_description"].(string)
		got := strconv.Itoa(int(answer["code"].(float64))) + " " + answer["error"].(string)
		if answer["stat"] != "error" || got != errName || desc == "" {
			t.Errorf("answer %v, want stat error %s with a description", answer, errName)
		}
		if len(desc) > 1000 {
			t.Errorf("the description echoes the input: %d bytes", len(desc))
		}
		if argument != "" && answer["argument_name"] != argument {
			t.Errorf("argument_name %v, want %s", answer["argument_name"], argument)
		}
		if invalidField != "" {
			fields, _ := answer["invalid_fields"].(map[string]any)
			if _, ok := fields[invalidField]; !ok {
				t.Errorf("invalid_fields %v, want %s among them", fields, invalidField)
			}
		}
	case oneginiError:
		if answer["error"] != errName || answer["error_description"] == "" || header.Get("Cache-Control") != "no-store" {
			t.Errorf("answer %v (Cache-Control %q), want error %s with a description, no-store", answer, header.Get("Cache-Control"), errName)
		}
	case oneginiOK:
		if answer["status"] != float64(2000) {
			t.Errorf("answer %v, want the script's status 2000", answer)
		}
	case notFound:
		if answer["error"] != "not_found" {
			t.Errorf("answer %v, want not_found", answer)
		}
	}
}

// TestAdminPathTricksFromOtherHosts: no spelling of an admin path lets a
// client that is not on the loopback interface in. A spelling that needs
// cleaning is redirected to the clean path, which is then refused.
func TestAdminPathTricksFromOtherHosts(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	for _, target := range []string{"/__admin/health", "/%5F_admin/health", "/__admin/%2e%2e/__admin/health",
		"/__admin//health", "/__admin/./health", "/oauth/../__admin/health", "//__admin/health", "/__admin"} {
		url := "http://localhost" + target
		for hops := 0; ; hops++ {
			req, err := http.NewRequest(http.MethodGet, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.RemoteAddr = "192.0.2.7:4444"
			rec := newRecorder()
			srv.ServeHTTP(rec, req)
			if rec.status == http.StatusMovedPermanently && hops < 3 {
				url = rec.header.Get("Location")
				continue
			}
			if (rec.status != http.StatusForbidden && rec.status != http.StatusNotFound) || strings.Contains(rec.body.String(), "goroutines") {
				t.Errorf("%s from another host: %d %.200s", target, rec.status, rec.body.String())
			}
			break
		}
	}
}
