package mockserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"regsandbox/mockserver/workspace"
)

// FuzzOneginiBody sends arbitrary bodies and content types to the Onegini
// endpoints: the answer is always Onegini JSON, never a panic or a hang.
func FuzzOneginiBody(f *testing.F) {
	f.Add("/oauth/api/v3/custom-registration/ExampleId/backchannel", "application/json", `{"data":"{\"custom_key\":\"custom_data\"}"}`)
	f.Add("/oauth/api/v3/custom-registration/QrCodeIdp/backchannel", "application/json", `{"data":"{\"userId\":\"u\"}"}`)
	f.Add("/oauth/custom-registration/ExampleId/init", "application/json", `{"data": 12}`)
	f.Add("/oauth/custom-registration/ExampleId/complete", "application/x-www-form-urlencoded", "transaction_id=%zz&data=\xff")
	f.Add("/oauth/custom-registration/QrCodeIdp/complete", "text/plain", "/* unterminated")
	srv := newInternalServer(f)
	f.Fuzz(func(t *testing.T, path, contentType, body string) {
		if !strings.Contains(path, "/custom-registration/") || !strings.HasPrefix(path, "/") {
			return
		}
		req, err := http.NewRequest(http.MethodPost, "http://localhost"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", contentType)
		req.SetBasicAuth("example-api-client", "example-api-secret")
		req.RemoteAddr = "127.0.0.1:1"
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code == http.StatusNotFound && !strings.Contains(rec.Body.String(), "error") {
			t.Fatalf("%s: a 404 without an error body", path)
		}
		var answer map[string]any
		if rec.Code != http.StatusMovedPermanently && json.Unmarshal(rec.Body.Bytes(), &answer) != nil {
			t.Fatalf("%s %q: answer is not JSON: %d %s", path, body, rec.Code, rec.Body)
		}
	})
}

// FuzzFaultCondition compiles arbitrary fault conditions: each is refused
// with a message or accepted and evaluated without a panic.
func FuzzFaultCondition(f *testing.F) {
	f.Add(`request.form.emailAddress == "fail@example.com"`)
	f.Add(`request.json.data.size() > 3`)
	f.Add(`request.headers["user-agent"].contains("okhttp")`)
	f.Add(`request.method == "POST" &&`)
	f.Add(`[1,2,3].map(x, x * 2).size() == 3`)
	srv := newInternalServer(f)
	f.Fuzz(func(t *testing.T, when string) {
		rule := workspace.Fault{ID: "fz", Endpoint: "*", When: when, Status: 418, Enabled: true}
		if _, err := srv.AddFault(rule); err != nil {
			return
		}
		defer srv.DeleteFault("fz")
		req := httptest.NewRequest(http.MethodPost, "/oauth/register_native_traditional",
			strings.NewReader("emailAddress=fail%40example.com"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		srv.ServeHTTP(httptest.NewRecorder(), req)
	})
}
