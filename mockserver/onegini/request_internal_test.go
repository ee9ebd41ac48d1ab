package onegini

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// referenceJSONBody is how the back end first decoded JSON bodies: a
// json.Unmarshal into raw fields, then one per field, with raw bytes that
// are not UTF-8 refused first as the Token Server refuses them.
// decodeJSONBody must answer exactly as it does.
func referenceJSONBody(raw []byte) request {
	raw = stripComments(raw)
	if len(bytes.TrimSpace(raw)) == 0 {
		return request{}
	}
	if !utf8.Valid(raw) {
		return request{err: errInvalidRequest(descMalformedBody)}
	}
	var body struct {
		Data          json.RawMessage `json:"data"`
		TransactionID json.RawMessage `json:"transaction_id"`
		Scope         json.RawMessage `json:"scope"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return request{err: errInvalidRequest(descMalformedBody)}
	}
	str := func(raw json.RawMessage) (string, bool) {
		if isNull(raw) {
			return "", true
		}
		var s string
		return s, json.Unmarshal(raw, &s) == nil
	}
	var req request
	var ok bool
	if req.data, ok = str(body.Data); !ok {
		return request{err: errInvalidRequest(descDataNotString)}
	}
	if req.transactionID, ok = str(body.TransactionID); !ok {
		return request{err: errInvalidRequest(descTransactionBad)}
	}
	if req.scopes, ok = decodeScope(body.Scope); !ok {
		return request{err: errInvalidRequest(descScopeMalformed)}
	}
	return req
}

// jsonBodies are bodies whose decoding has a corner to get wrong.
var jsonBodies = []string{
	``, ` `, "\u00a0", `null`, ` null `, `{}`, `[]`, `"data"`, `12`, `true`, `{`, `{"data":`, `{"data":"x"} {}`,
	`{"data":"{\"custom_key\":\"custom_data\"}"}`,
	"{\n   \"data\": \"{\\\"custom_key\\\":\\\"custom_data\\\"}\" //optional\n}",
	`{"data": /* a comment */ "x"}`, `{"data": "a // not a comment"}`,
	`{"data":null}`, `{"data":12}`, `{"data":{"userId":"u"}}`, `{"data":["a"]}`, `{"data":true}`,
	`{"DATA":"upper"}`, `{"Data":"x","data":"y"}`, `{"data":"x","data":null}`, `{"data":{},"data":"ok"}`,
	`{"d\u0061ta":"escaped key"}`, `{"dat\u0061":1}`, `{"\u0064ata":"x"}`, `{"daţa":"not data"}`,
	`{"data":"\u00e9\ud83d\ude00\/\b\f\n\r\t\"\\"}`, `{"data":"\ud800"}`, `{"data":"\ud800\u0041"}`,
	`{"data":"\udc00\ud800"}`, `{"data":"\ud83d\ude00\ud83d"}`, "{\"data\":\"\xff\xfe raw\"}", "{\"data\":\"caf\xc3\xa9\"}",
	"{\"da\xffta\":\"x\"}",
	`{"transaction_id":"t-1"}`, `{"transaction_id":7}`, `{"transaction_id":7,"data":{}}`, `{"TRANSACTION_ID":"t"}`,
	`{"scope":["openid","profile"]}`, `{"scope":"openid  profile"}`, `{"scope":[1]}`, `{"scope":[null]}`,
	`{"scope":[]}`, `{"scope":""}`, `{"scope":{}}`, `{"scope":null}`,
	`{"other":{"nested":[1,{"data":"no"}],"s":"}"},"data":"yes"}`, `{"a":-1.5e3,"data":"n"}`, `{"a":[true,false,null],"data":"l"}`,
	`  {  "data"  :  "spaced"  ,  "scope" : [ "openid" ] }  `, `{"data":"1e400"}`, `{"data":1e400}`,
}

// sameRequest compares the decoded fields and the error answer.
func sameRequest(t *testing.T, body string, got, want request) {
	t.Helper()
	if (got.err != nil || want.err != nil) && (got.err == nil || want.err == nil || *got.err != *want.err) {
		t.Errorf("%q: error %v, want %v", body, got.err, want.err)
		return
	}
	if got.form || got.data != want.data || got.transactionID != want.transactionID || !reflect.DeepEqual(got.scopes, want.scopes) {
		t.Errorf("%q: decoded %+v, want %+v", body, got, want)
	}
}

// decodeOnce runs decodeJSONBody on a copy of body, with scratch reused
// from earlier calls as the pooled calls do.
func decodeOnce(body string, scratch []byte) (request, []byte) {
	var req request
	scratch = decodeJSONBody([]byte(body), &req, scratch)
	return req, scratch
}

func TestDecodeJSONBodyMatchesReference(t *testing.T) {
	var scratch []byte
	for _, body := range jsonBodies {
		var got request
		got, scratch = decodeOnce(body, scratch)
		sameRequest(t, body, got, referenceJSONBody([]byte(body)))
	}
}

func FuzzDecodeJSONBody(f *testing.F) {
	for _, body := range jsonBodies {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, _ := decodeOnce(body, []byte("left over from another request"))
		sameRequest(t, body, got, referenceJSONBody([]byte(body)))
	})
}

// referenceIsForm is the media type check before its fast path.
func referenceIsForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

var contentTypes = []string{
	"", "application/json", "application/x-www-form-urlencoded", "Application/X-WWW-Form-URLEncoded",
	" application/x-www-form-urlencoded ", "application/x-www-form-urlencoded; charset=utf-8",
	"application/x-www-form-urlencoded;", "application/x-www-form-urlencoded; charset", "application/x-www-form-urlencoded; a=1; a=2",
	"application/x-www-form-urlencoded; charset=\"utf-8\"", "text/plain", "multipart/form-data; boundary=x",
	"application/x-www-form-urlencoded\u212a", "application/x-www-form-urlencode", "application/x-www-form-urlencoded/x",
}

func TestIsFormMatchesReference(t *testing.T) {
	for _, ct := range contentTypes {
		if got, want := isForm(ct), referenceIsForm(ct); got != want {
			t.Errorf("isForm(%q) = %v, want %v", ct, got, want)
		}
	}
}

func FuzzIsForm(f *testing.F) {
	for _, ct := range contentTypes {
		f.Add(ct)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		if got, want := isForm(ct), referenceIsForm(ct); got != want {
			t.Errorf("isForm(%q) = %v, want %v", ct, got, want)
		}
	})
}

var authorizations = []string{
	"", "Basic", "Basic ", "basic ZXhhbXBsZS1hcGktY2xpZW50OmV4YW1wbGUtYXBpLXNlY3JldA==",
	"Basic ZXhhbXBsZS1hcGktY2xpZW50OmV4YW1wbGUtYXBpLXNlY3JldA==", "BASIC ZXhhbXBsZS1hcGktY2xpZW50OmV4YW1wbGUtYXBpLXNlY3JldA==",
	"Basic  ZXhhbXBsZS1hcGktY2xpZW50OmV4YW1wbGUtYXBpLXNlY3JldA==", "Basic bm9jb2xvbg==", "Basic OnNlY3JldA==",
	"Basic dXNlcjo=", "Basic dXNlcjpwYTpzcw==", "Basic !!!", "Basic dXNlcjpwYXNz\n", "Bearer dXNlcjpwYXNz",
	"Basic " + strings.Repeat("QUFB", 200),
}

func TestBasicAuthMatchesNetHTTP(t *testing.T) {
	for _, auth := range authorizations {
		checkBasicAuth(t, auth)
	}
}

func FuzzBasicAuth(f *testing.F) {
	for _, auth := range authorizations {
		f.Add(auth)
	}
	f.Fuzz(checkBasicAuth)
}

func checkBasicAuth(t *testing.T, auth string) {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	wantID, wantSecret, wantOK := r.BasicAuth()
	var buf [256]byte
	id, secret, ok := basicAuth(r, buf[:])
	if ok != wantOK || string(id) != wantID || string(secret) != wantSecret {
		t.Errorf("basicAuth(%q) = %q, %q, %v; want %q, %q, %v", auth, id, secret, ok, wantID, wantSecret, wantOK)
	}
}

// TestWriteAnswerMatchesMarshal: the pooled encoder writes what marshal
// wrote, escapes included.
func TestWriteAnswerMatchesMarshal(t *testing.T) {
	for _, answer := range []any{
		&statusAnswer{Status: 2000, Data: `{"custom_response_key":"custom_response_data"}`},
		&statusAnswer{Status: 4000, Data: "<b>&amp;</b> \u2028\u2029 \x00 \xff é"},
		&statusAnswer{Status: 5000},
		&initAnswer{TransactionID: "t", Data: "d", Status: 2000},
		&completeAnswer{Status: 2000, OAuthToken: &oauthToken{TokenType: "bearer", AccessToken: "A", ExpiresIn: 3600}},
	} {
		want, err := marshal(answer)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second time from a reused buffer
			rec := httptest.NewRecorder()
			writeAnswer(rec, answer)
			if rec.Body.String() != string(want) {
				t.Errorf("writeAnswer wrote %s, want %s", rec.Body, want)
			}
		}
	}
}

func TestReadsCache(t *testing.T) {
	for _, tc := range []struct {
		source string
		reads  bool
	}{
		{`{"status": 2000}`, false},
		{`{"status": 2000, "responsePayload": "cache"}`, false},
		{`{"status": 2000, "cache": {"set": {"k": 1}}}`, false},
		{"cel.bind(id, uuid(),\n  payload != null && has(payload.userId)\n    ? {\"status\": 2000, \"responsePayload\": id,\n" +
			"        \"cache\": {\"set\": {id: {\"value\": payload.userId, \"ttl\": 100}}}}\n    : {\"status\": 4000})", false},
		{`requestPayload in cache ? {"status": 2000} : {"status": 5000}`, true},
		{`{"status": has(cache.k) ? 2000 : 5000}`, true},
		{`{"status": cache.exists(k, k == "x") ? 2000 : 5000}`, true},
		{`{"status": size(.cache) > 0 ? 2000 : 5000}`, true},
		{`{"status": 2000, "cache": {"delete": cache.map(k, k)}}`, true},
		{`cel.bind(cache, 1, {"status": 2000})`, true}, // shadowed, but counting it is safe
		{`{"status": 2000, "responsePayload": cache[?"k"].orValue("none")}`, true},
		{`{"status": 2000, "cache": )`, true}, // does not parse: assume it reads
	} {
		if got := readsCache(tc.source); got != tc.reads {
			t.Errorf("readsCache(%q) = %v, want %v", tc.source, got, tc.reads)
		}
	}
}
