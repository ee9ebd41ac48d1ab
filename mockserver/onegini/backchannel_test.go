package onegini_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"regsandbox/mockserver/onegini"
	"regsandbox/mockserver/workspace"
)

// The seed's example request and response (seeds/onegini-backchannel-api.md).
const (
	seedBody     = `{"data": "{\"custom_key\":\"custom_data\"}"}`
	seedResponse = `{"status":2000,"data":"{\"custom_response_key\":\"custom_response_data\"}"}`
)

func TestSeedBackchannel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name string
		body string
	}{
		{"seed body", seedBody},
		{"seed body verbatim, with its comment", "{\n   \"data\": \"{\\\"custom_key\\\":\\\"custom_data\\\"}\" //optional\n}"},
		{"no body: data is optional", ""},
		{"no data", `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.backchannel("ExampleId", tc.body)
			equal(t, "HTTP status", a.status, http.StatusOK)
			equal(t, "body", a.raw, seedResponse)
			wantHeaders(t, a.header)
			equal(t, "outcome", a.outcome, onegini.Outcome{IdP: "ExampleId", Script: "backchannel", Status: 2000, Cost: a.outcome.Cost})
		})
	}
}

func TestFormCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	form := url.Values{"client_id": {apiID}, "client_secret": {apiSecret}, "data": {`{"userId":"u-form"}`}}
	a := e.do(call{path: backchannelPath("QrCodeIdp"), body: form.Encode(), form: true})
	wantStatus(t, a, 2000)
	code, _ := a.body["data"].(string)
	entries, err := e.backend.CacheEntries("QrCodeIdp")
	if err != nil || len(entries) != 1 || entries[0].Key != code || entries[0].Value != "u-form" {
		t.Fatalf("cache after a form call = %+v, %v; want %s → u-form", entries, err, code)
	}

	form.Set("client_secret", "wrong")
	a = e.do(call{path: backchannelPath("ExampleId"), body: form.Encode(), form: true})
	wantError(t, a, 400, "invalid_client", "Client credentials used are not valid or client does not exist")

	// Credentials in a JSON body are not accepted: only Basic or a form.
	a = e.do(call{path: backchannelPath("ExampleId"), body: `{"client_id":"example-api-client","client_secret":"example-api-secret"}`})
	wantError(t, a, 400, "invalid_client", "Client credentials used are not valid or client does not exist")
}

const (
	descInvalidClient = "Client credentials used are not valid or client does not exist"
	descNoScope       = "The API client does not have the required `User registration` scope"
	descDisabled      = "The specified IdP is disabled."
	descUnknownIdP    = "The specified IdP does not exist."
	descInternal      = "The server has encountered an internal server error."
)

// TestAccessErrors reaches every row of the seed's error table, and checks
// the order in which the checks run.
func TestAccessErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(ws *workspace.Workspace) {
		idp, _ := ws.Onegini.IdP("ExampleId")
		broken := *idp
		broken.ID = "BrokenIdp"
		broken.Scripts.Backchannel = `{"status": 2000, "responsePayload": payload.missing}`
		noScript := *idp
		noScript.ID = "NoScriptIdp"
		noScript.Scripts.Backchannel = ""
		ws.Onegini.IdPs = append(ws.Onegini.IdPs, broken, noScript)
	})
	for _, tc := range []struct {
		name       string
		c          call
		status     int
		code, desc string
	}{
		{"bad secret", call{path: backchannelPath("ExampleId"), user: apiID, pass: "wrong"}, 400, "invalid_client", descInvalidClient},
		{"unknown client", call{path: backchannelPath("ExampleId"), user: "nobody", pass: "x"}, 400, "invalid_client", descInvalidClient},
		{"no credentials", call{path: backchannelPath("ExampleId"), body: seedBody}, 400, "invalid_client", descInvalidClient},
		{"app client on the backchannel", call{path: backchannelPath("ExampleId"), user: appID, pass: appSecret}, 400, "invalid_client", descInvalidClient},
		{"API client on init", call{path: initPath("ExampleId"), user: apiID, pass: apiSecret}, 400, "invalid_client", descInvalidClient},
		{"client without the scope", call{path: backchannelPath("ExampleId"), user: "no-scope-client", pass: "no-scope-secret"}, 403, "insufficient_permissions", descNoScope},
		{"scope is checked before the IdP", call{path: backchannelPath("UnknownIdp"), user: "no-scope-client", pass: "no-scope-secret"}, 403, "insufficient_permissions", descNoScope},
		{"credentials are checked before the IdP", call{path: backchannelPath("UnknownIdp"), user: apiID, pass: "wrong"}, 400, "invalid_client", descInvalidClient},
		{"disabled IdP", call{path: backchannelPath("DisabledIdp"), user: apiID, pass: apiSecret}, 403, "idp_disabled", descDisabled},
		{"disabled IdP on complete", call{path: completePath("DisabledIdp"), user: appID, pass: appSecret}, 403, "idp_disabled", descDisabled},
		{"unknown IdP", call{path: backchannelPath("UnknownIdp"), user: apiID, pass: apiSecret}, 404, "invalid_idp_identifier", descUnknownIdP},
		{"unknown IdP on init", call{path: initPath("UnknownIdp"), user: appID, pass: appSecret}, 404, "invalid_idp_identifier", descUnknownIdP},
		{"IdP is checked before the body", call{path: backchannelPath("UnknownIdp"), body: `{`, user: apiID, pass: apiSecret}, 404, "invalid_idp_identifier", descUnknownIdP},
		{"script fails at run time", call{path: backchannelPath("BrokenIdp"), body: `{}`, user: apiID, pass: apiSecret}, 500, "internal_server_error", descInternal},
		{"IdP without the script", call{path: backchannelPath("NoScriptIdp"), user: apiID, pass: apiSecret}, 500, "internal_server_error", descInternal},
		{"malformed JSON", call{path: backchannelPath("ExampleId"), body: `{"data":`, user: apiID, pass: apiSecret}, 400, "invalid_request", "The request body is not a JSON object or a url-encoded form."},
		{"data not a string", call{path: backchannelPath("ExampleId"), body: `{"data":{"userId":"u"}}`, user: apiID, pass: apiSecret}, 400, "invalid_request", "The data parameter must be a string."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantError(t, e.do(tc.c), tc.status, tc.code, tc.desc)
		})
	}
}

func TestScriptFailureOutcome(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(ws *workspace.Workspace) {
		ws.Onegini.IdPs[0].Scripts.Backchannel = `{"status": 2000, "responsePayload": payload.missing}`
	})
	a := e.backchannel("ExampleId", `{"data":"{}"}`)
	wantError(t, a, 500, "internal_server_error", descInternal)
	if a.outcome.Script != "backchannel" || !strings.Contains(a.outcome.Err, "missing") {
		t.Errorf("outcome = %+v, want the backchannel script's runtime error", a.outcome)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	res, err := http.Get(e.url + backchannelPath("ExampleId"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	equal(t, "GET status", res.StatusCode, http.StatusMethodNotAllowed)
}

// expensiveScript runs far past the default cost limit.
const expensiveScript = `{"status": 2000 + lists.range(100000).map(x, lists.range(100000).map(y, x * y)).size()}`

// TestBudgetExceeded: a runaway script answers 500 quickly and does not
// hold up other requests.
func TestBudgetExceeded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(ws *workspace.Workspace) {
		idp, _ := ws.Onegini.IdP("QrCodeIdp")
		idp.Scripts.Backchannel = expensiveScript
	})
	var wg sync.WaitGroup
	var slow answer
	var elapsed time.Duration
	wg.Go(func() {
		start := time.Now()
		slow = e.backchannel("QrCodeIdp", "")
		elapsed = time.Since(start)
	})
	for range 20 {
		a := e.backchannel("ExampleId", seedBody)
		equal(t, "concurrent seed answer", a.raw, seedResponse)
	}
	wg.Wait()
	t.Logf("runaway script stopped after %v: %s", elapsed, slow.outcome.Err)
	wantError(t, slow, 500, "internal_server_error", descInternal)
	if elapsed > 2*time.Second {
		t.Errorf("the runaway script took %v to be stopped", elapsed)
	}
	if !strings.Contains(slow.outcome.Err, "limit") {
		t.Errorf("outcome.Err = %q, want the budget error", slow.outcome.Err)
	}
}

func TestCacheChangesAreAtomic(t *testing.T) {
	t.Parallel()
	// The script asks to store an entry and then fails its result check
	// (an unknown key), so nothing may be stored.
	e := newEnv(t, func(ws *workspace.Workspace) {
		ws.Onegini.IdPs[0].Scripts.Backchannel = `{"status": 2000, "cache": {"set": {"k": 1}}, "oops": 1}`
	})
	wantError(t, e.backchannel("ExampleId", ""), 500, "internal_server_error", descInternal)
	if entries, _ := e.backend.CacheEntries("ExampleId"); len(entries) != 0 {
		t.Errorf("a failed script stored %+v", entries)
	}
}
