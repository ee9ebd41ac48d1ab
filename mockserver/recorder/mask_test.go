package recorder

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestMaskJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		ru       rule
		want     string
	}{
		{"order and spacing kept", `{"stat": "ok", "newPassword":"s3cret", "firstName":"Jane"}`, passwords,
			`{"stat": "ok", "newPassword":"***", "firstName":"Jane"}`},
		{"any password key, any value", `{"PASSWORD":{"a":1},"currentPassword":[1,2],"oldpassword":7}`, passwords,
			`{"PASSWORD":"***","currentPassword":"***","oldpassword":"***"}`},
		{"secrets untouched by the password pass", `{"access_token":"tok123456"}`, passwords, ``},
		{"secrets", `{"access_token":"a1","refresh_token":"r1","id_token":"i1","client_secret":"c1"}`, secrets,
			`{"access_token":"***","refresh_token":"***","id_token":"***","client_secret":"***"}`},
		{"numeric error code stays", `{"stat":"error","code":310,"error":"record_not_found"}`, everything, ``},
		{"string code goes", `{"code":"abc123"}`, everything, `{"code":"***"}`},
		{"nested object", `{"oauth_token":{"token_type":"bearer","access_token":"a1","expires_in":3600}}`, everything,
			`{"oauth_token":{"token_type":"bearer","access_token":"***","expires_in":3600}}`},
		{"array under a secret key", `{"token":["a1","b2"],"other":["x"]}`, secrets, `{"token":["***","***"],"other":["x"]}`},
		{"JSON inside a string", `{"data":"{\"password\":\"pw1\",\"user\":\"u\"}"}`, passwords,
			`{"data":"{\"password\":\"***\",\"user\":\"u\"}"}`},
		{"escaped key", `{"pass\u0077ord":"pw1"}`, passwords, `{"pass\u0077ord":"***"}`},
		{"top-level array", `[{"password":"a"},{"b":"c"}]`, passwords, `[{"password":"***"},{"b":"c"}]`},
		{"not JSON", `{"password":"cut off`, passwords, ``},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := maskJSON([]byte(tc.in), tc.ru)
			if tc.want == "" {
				equal(t, "changed", ok, false)
				equal(t, "output", string(got), tc.in)
				return
			}
			equal(t, "output", string(got), tc.want)
			equal(t, "valid", json.Valid(got), true)
		})
	}
}

func TestMaskBody(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, contentType, in string
		ru                    rule
		want                  string
	}{
		{"form, order and encoding kept", formType, "z=1&newPassword=p%40ss&newPasswordConfirm=p%40ss&a=%20b", passwords,
			"z=1&newPassword=***&newPasswordConfirm=***&a=%20b"},
		{"form secrets", formType, "client_id=c&client_secret=s&code=abc&grant_type=authorization_code", secrets,
			"client_id=c&client_secret=***&code=***&grant_type=authorization_code"},
		{"encoded key", formType, "new%50assword=x&token=t", everything, "new%50assword=***&token=***"},
		{"cut JSON", "application/json", `{"user":"u","password":"abc`, passwords, `{"user":"u","password":"***"`},
		{"cut JSON secret", "application/json", `{"access_token": "abc`, secrets, `{"access_token": "***"`},
		{"text form-like", "text/plain", "user=u&password=abc&x=1", passwords, "user=u&password=***&x=1"},
		{"sniffed JSON", "", `{"password":"pw"}`, passwords, `{"password":"***"}`},
		{"nothing to mask", "text/plain", "hello", everything, "hello"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			equal(t, "masked", maskBody(tc.in, tc.contentType, tc.ru), tc.want)
		})
	}
}

func TestMaskHeaders(t *testing.T) {
	t.Parallel()
	h := map[string][]string{
		"Authorization": {"Basic ZXhhbXBsZTpzZWNyZXQ="}, "Proxy-Authorization": {"Bearer abc"},
		"Cookie": {"session=abc"}, "X-Client-Secret": {"s"}, "X-Password": {"p"}, "Accept": {"*/*"},
	}
	got := maskHeaders(h, everything)
	want := map[string]string{"Authorization": "Basic ***", "Proxy-Authorization": "Bearer ***", "Cookie": "***",
		"X-Client-Secret": "***", "X-Password": "***", "Accept": "*/*"}
	for k, v := range want {
		equal(t, k, got[k][0], v)
	}
	equal(t, "original untouched", h["Authorization"][0], "Basic ZXhhbXBsZTpzZWNyZXQ=")
	equal(t, "password pass keeps Authorization", maskHeaders(h, passwords)["Authorization"][0], "Basic ZXhhbXBsZTpzZWNyZXQ=")
}

// Secret values of the masking journey; each is unique so a leak is
// found wherever it hides.
const (
	pwNew      = "Pw-new-7f3a"
	pwCurrent  = "Pw-cur-91bc"
	pwJSON     = "Pw-json-44de"
	pwNested   = "Pw-nested-0a1b"
	pwBig      = "Pw-big-body-6c7d"
	secret     = "client-secret-5e6f"
	basicCreds = "ZXhhbXBsZS1hcGk6YXBpLXNlY3JldA=="
	bearer     = "bearer-tok-1234"
	accessTok  = "access-tok-8899"
	refreshTok = "refresh-tok-7766"
	authCode   = "auth-code-5544"
	cookieVal  = "cookie-val-3322"
)

var (
	passwordValues = []string{pwNew, pwCurrent, pwJSON, pwNested, pwBig}
	secretValues   = []string{secret, basicCreds, bearer, accessTok, refreshTok, authCode, cookieVal}
)

// recordSecrets sends calls full of passwords and secrets, some with
// bodies large enough to be stored compressed.
func recordSecrets(t *testing.T) (*Recorder, http.Handler) {
	t.Helper()
	rec := newTestRecorder(t)
	b := newBackend()
	b.script("/oauth/token", `{"access_token":"`+accessTok+`","expires_in":3600,"refresh_token":"`+refreshTok+`","stat":"ok"}`)
	h := rec.Wrap(b.router)
	calls := []call{
		{path: "/oauth/register_native_traditional?access_token=" + accessTok, contentType: formType,
			body: url.Values{"newPassword": {pwNew}, "newPasswordConfirm": {pwNew}, "client_secret": {secret},
				"emailAddress": {"jane@example.com"}}.Encode(),
			header: http.Header{"Cookie": {"s=" + cookieVal}}},
		{path: "/oauth/auth_native_traditional", contentType: formType,
			body: "signInEmailAddress=jane%40example.com&currentPassword=" + url.QueryEscape(pwCurrent)},
		{path: "/oauth/token", contentType: formType, body: "grant_type=authorization_code&code=" + authCode,
			header: http.Header{"Authorization": {"Basic " + basicCreds}}},
		{path: "/oauth/custom-registration/ExampleId/complete", contentType: "application/json",
			body:   `{"password":"` + pwJSON + `","data":"{\"newPassword\":\"` + pwNested + `\"}"}`,
			header: http.Header{"Authorization": {"Bearer " + bearer}}},
	}
	filler := strings.Repeat(`"field":"some value that repeats",`, blobMin/16)
	calls = append(calls, call{path: "/oauth/custom-registration/ExampleId/init", contentType: "application/json",
		body:   `{` + filler + `"password":"` + pwBig + `","data":"{\"newPassword\":\"` + pwBig + `\"}"}`,
		header: http.Header{"Authorization": {"Bearer " + bearer}}})
	for _, c := range calls {
		c.send(h)
	}
	return rec, h
}

func TestPasswordsNeverStored(t *testing.T) {
	t.Parallel()
	rec, _ := recordSecrets(t)
	equal(t, "count", rec.Count(), 5)
	var stored strings.Builder
	err := rec.db.Badger().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			stored.Write(it.Item().Key())
			// Large bodies are stored compressed or as blobs: search
			// them as well.
			if err := it.Item().Value(func(v []byte) error { stored.Write(storedText(&rec.segs, it.Item().Key(), v)); return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range passwordValues {
		lacks(t, "the database", stored.String(), pw)
		lacks(t, "the database", stored.String(), url.QueryEscape(pw))
	}
	// Secrets are kept, for replay.
	contains(t, "the database", stored.String(), secret)
}

func TestSecretsMaskedOnRead(t *testing.T) {
	t.Parallel()
	rec, _ := recordSecrets(t)
	page, err := rec.List(Query{})
	if err != nil {
		t.Fatal(err)
	}
	revealed, err := rec.List(Query{Reveal: true})
	if err != nil {
		t.Fatal(err)
	}
	one := mustGet(t, rec, page.Exchanges[0].ID, false)
	oneRevealed := mustGet(t, rec, page.Exchanges[0].ID, true)
	masked := map[string]string{
		"Get": toJSON(t, one), "List": toJSON(t, page), "HAR": mustHAR(t, page.Exchanges, false),
		"HAR of revealed exchanges without reveal": mustHAR(t, revealed.Exchanges, false),
		"Curl": curlAll(page.Exchanges, false), "Curl of revealed without reveal": curlAll(revealed.Exchanges, false),
	}
	for what, s := range masked {
		for _, v := range append(passwordValues, secretValues...) {
			lacks(t, what, s, v)
		}
		if what != "Get" { // one exchange, with Bearer only
			contains(t, what, s, "Basic "+Mask)
		}
		contains(t, what, s, "Bearer "+Mask)
	}
	clear := map[string]string{
		"Get reveal": toJSON(t, oneRevealed), "List reveal": toJSON(t, revealed),
		"HAR reveal": mustHAR(t, revealed.Exchanges, true), "Curl reveal": curlAll(revealed.Exchanges, true),
	}
	for what, s := range clear {
		for _, v := range passwordValues {
			lacks(t, what, s, v)
		}
	}
	for _, v := range secretValues {
		contains(t, "List reveal", clear["List reveal"], v)
		contains(t, "HAR reveal", clear["HAR reveal"], v)
		if v != refreshTok { // only in an answer, which curl does not send
			contains(t, "Curl reveal", clear["Curl reveal"], v)
		}
	}
}

// TestMaskedBodiesStillParse checks that masked bodies read as what was
// sent, with the mask in place of each secret.
func TestMaskedBodiesStillParse(t *testing.T) {
	t.Parallel()
	rec, _ := recordSecrets(t)
	page, err := rec.List(Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range page.Exchanges {
		switch bodyKind(headerValue(ex.RequestHeaders, "Content-Type"), ex.RequestBody) {
		case kindForm:
			v, err := url.ParseQuery(ex.RequestBody)
			if err != nil {
				t.Errorf("%s: masked form does not parse: %v", ex.Path, err)
			}
			for _, k := range []string{"newPassword", "client_secret", "currentPassword", "code"} {
				if _, ok := v[k]; ok {
					equal(t, ex.Path+" "+k, v.Get(k), Mask)
					equal(t, ex.Path+" Form "+k, ex.Form[k][0], Mask)
				}
			}
		case kindJSON:
			var v map[string]any
			if err := json.Unmarshal([]byte(ex.RequestBody), &v); err != nil {
				t.Errorf("%s: masked JSON does not parse: %v", ex.Path, err)
			}
			equal(t, "password", v["password"], any(Mask))
			equal(t, "decoded JSON password", ex.JSON.(map[string]any)["password"], any(Mask))
		}
		if strings.Contains(ex.URL, "access_token") {
			equal(t, "URL", ex.URL, "/oauth/register_native_traditional?access_token="+Mask)
		}
	}
}

func mustHAR(t *testing.T, exs []Exchange, reveal bool) string {
	t.Helper()
	raw, err := HAR("https://localhost:8443", exs, reveal)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func curlAll(exs []Exchange, reveal bool) string {
	var b strings.Builder
	for _, ex := range exs {
		b.WriteString(Curl(ex, "https://localhost:8443", reveal))
		b.WriteString("\n")
	}
	return b.String()
}

// TestMaskingLeavesTheCallersExchangeAlone: exports mask copies, so an
// exchange read with reveal stays revealed for its caller.
func TestMaskingLeavesTheCallersExchangeAlone(t *testing.T) {
	t.Parallel()
	ex := Exchange{Method: "POST", URL: "/x?token=t1", RequestBody: `{"access_token":"a1"}`,
		RequestHeaders: map[string][]string{"Content-Type": {"application/json"}, "Authorization": {"Bearer b1"}},
		Form:           map[string][]string{"token": {"t1"}},
		JSON:           map[string]any{"access_token": "a1", "nested": []any{map[string]any{"token": "t2"}}}}
	before := toJSON(t, ex)
	Curl(ex, "", false)
	if _, err := HAR("", []Exchange{ex}, false); err != nil {
		t.Fatal(err)
	}
	equal(t, "exchange after exports", toJSON(t, ex), before)
}

// storedText is a stored value with the bodies it holds compressed
// decompressed.
func storedText(d *segmentDir, key, v []byte) []byte {
	switch {
	case strings.HasPrefix(string(key), keySegment):
		plain, err := d.plainSegment(v)
		if err != nil {
			return v
		}
		v = plain
		entries, _, err := decodeSegment(v, nil)
		if err != nil {
			return v
		}
		var text []byte
		for _, e := range entries {
			text = append(text, v[e.sum.start:e.sum.end]...)
			// Blobs are read by their own keys.
			text = append(text, searchable(v[e.rec.start:e.rec.end], nil, nil)...)
		}
		return text
	case strings.HasPrefix(string(key), keyBlob) && len(v) > 0 && v[0] == blobValueCompressed:
		body, _ := decompress(v[1:])
		return []byte(body)
	}
	return v
}

// TestContainsFold holds containsFold, the writer's allocation-free test
// for "password" and "secret", to the plain definition: an ASCII-lowered
// copy contains the needle. Non-ASCII bytes must never fold into letters.
func TestContainsFold(t *testing.T) {
	t.Parallel()
	asciiLower := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		return string(b)
	}
	cases := []string{"", "p", "password", "PASSWORD", "newPassword", "pPassword", "ppassworD", "passwor",
		"xpasswor", "pa ssword", `{"newPasswordConfirm":"x"}`, "paßword", "\xd0password", "P\u0130SSWORD",
		strings.Repeat("p", 40) + "assword", strings.Repeat("P", 40), "client_secret", "SECRET", "secre"}
	alphabet := "pPaAsSwWoOrRdD\xc0x"
	for i := range 3000 {
		var b strings.Builder
		for j := range i % 23 {
			b.WriteByte(alphabet[(i*7+j*13+j*j)%len(alphabet)])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		for _, needle := range []string{"password", "secret", "p", "ps"} {
			want := strings.Contains(asciiLower(s), needle)
			if got := containsFold(s, needle); got != want {
				t.Fatalf("containsFold(%q, %q) = %t, want %t", s, needle, got, want)
			}
			if got := containsFold([]byte(s), needle); got != want {
				t.Fatalf("containsFold([]byte(%q), %q) = %t, want %t", s, needle, got, want)
			}
		}
	}
}
