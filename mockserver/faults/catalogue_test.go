package faults

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"regsandbox/fixtures"
	"regsandbox/mockserver/capture"
)

var requestIDPattern = regexp.MustCompile(`^[a-z0-9]{16}$`)

func TestCatalogueEntries(t *testing.T) {
	t.Parallel()
	entries := Catalogue()
	seen := map[string]bool{}
	for _, e := range entries {
		t.Run(e.ID, func(t *testing.T) {
			t.Parallel()
			if !json.Valid(e.Body) {
				t.Fatalf("body is not JSON: %s", e.Body)
			}
			if e.Description == "" || len(e.Endpoints) == 0 {
				t.Errorf("entry lacks a description or endpoints: %+v", e)
			}
			for _, ep := range e.Endpoints {
				if backendOf(ep) != e.Backend || !knownEndpoint(ep) {
					t.Errorf("endpoint %q does not belong to %s", ep, e.Backend)
				}
			}
			switch e.Backend {
			case BackendCapture:
				checkCaptureBody(t, e, e.Body)
			case BackendOnegini:
				checkOneginiBody(t, e)
			default:
				t.Errorf("backend %q", e.Backend)
			}
			for locale, body := range e.Messages {
				if !json.Valid(body) {
					t.Errorf("%s body is not JSON: %s", locale, body)
				}
				checkCaptureBody(t, e, body)
			}
		})
		if seen[e.ID] {
			t.Errorf("id %s appears twice", e.ID)
		}
		seen[e.ID] = true
	}
}

// checkCaptureBody verifies the keys every Capture client reads, in the
// order Capture's writer puts them.
func checkCaptureBody(t *testing.T, e Entry, body []byte) {
	t.Helper()
	m := decodeObject(t, body)
	assertEqual(t, m["stat"], any("error"), "stat")
	assertEqual(t, m["error"], any(e.Name), "error")
	assertEqual(t, strconv.Itoa(int(m["code"].(float64))), e.Code, "code")
	if d, _ := m["error_description"].(string); d == "" {
		t.Errorf("error_description is empty")
	}
	if id, _ := m["request_id"].(string); !requestIDPattern.MatchString(id) {
		t.Errorf("request_id = %q", m["request_id"])
	}
	if !bytes.HasPrefix(body, []byte(`{"stat":"error","code":`)) {
		t.Errorf("keys out of Capture's order: %s", body)
	}
	assertEqual(t, e.Status, http.StatusOK, "status")
	if !strings.HasPrefix(e.ID, "capture."+e.Name) {
		t.Errorf("id %s does not name %s", e.ID, e.Name)
	}
}

// checkOneginiBody verifies the Token Server's error document.
func checkOneginiBody(t *testing.T, e Entry) {
	t.Helper()
	m := decodeObject(t, e.Body)
	if len(m) != 2 || m["error"] != e.Code || m["error_description"] == "" {
		t.Errorf("body = %s", e.Body)
	}
	if !bytes.HasPrefix(e.Body, []byte(`{"error":`)) {
		t.Errorf("error must come first: %s", e.Body)
	}
	assertEqual(t, e.ID, "onegini."+e.Code, "id")
}

func TestCatalogueCoversTheDocumentedErrors(t *testing.T) {
	t.Parallel()
	capture := strings.Fields(`100 missing_argument 200 invalid_argument 201 duplicate_argument
		205 invalid_auth_method 210 invalid_credentials 211 no_password 212 no_such_account
		213 password_incorrect 221 unknown_application 222 unknown_entity_type 223 unknown_attribute
		224 application_not_found 226 flow_error 300 error_creating_record 310 record_not_found
		330 timestamp_mismatch 340 invalid_data_format 341 invalid_json_type 342 invalid_date_time
		360 constraint_violation 361 unique_violation 362 missing_required_attribute 363 length_violation
		380 email_address_in_use 390 invalid_form_fields 402 invalid_client_credentials
		403 client_permission_error 403 permission_error 413 no_access_grant 414 access_token_expired
		415 authorization_code_expired 417 creation_token_expired 420 redirect_uri_mismatch
		480 api_feature_disabled 500 unexpected_error 510 api_limit_error 540 triggered_error`)
	for i := 0; i < len(capture); i += 2 {
		e, ok := Lookup("capture." + capture[i+1])
		if !ok {
			t.Errorf("capture.%s is missing", capture[i+1])
			continue
		}
		assertEqual(t, e.Code, capture[i], e.ID+" code")
	}
	for _, c := range []struct {
		code   string
		status int
	}{
		{"invalid_client", 400}, {"insufficient_permissions", 403}, {"idp_disabled", 403},
		{"invalid_idp_identifier", 404}, {"internal_server_error", 500}, {"invalid_scope", 400}, {"invalid_profile", 400},
	} {
		e, ok := Lookup("onegini." + c.code)
		if !ok {
			t.Errorf("onegini.%s is missing", c.code)
			continue
		}
		assertEqual(t, e.Status, c.status, e.ID+" status")
	}
	if _, ok := Lookup("capture.nothing"); ok {
		t.Error("Lookup found an unknown id")
	}
}

func TestCatalogueSeedTexts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id, body string
	}{
		{"capture.invalid_form_fields", `{"stat":"error","code":390,"error_description":"some inputs are invalid",` +
			`"error":"invalid_form_fields","request_id":"eyt2p5thkwch5h2h","invalid_fields":{` +
			`"displayName":["That display name is already taken."],"emailAddress":["Email address is required."],` +
			`"newPasswordConfirm":["Passwords do not match."]}}`},
		{"capture.missing_argument", `{"stat":"error","code":100,"error_description":"missing arguments: flow",` +
			`"error":"missing_argument","request_id":"uyeem84bmqmnjuu4"}`},
		{"capture.unexpected_error", `{"stat":"error","code":500,"error_description":"could not find a flow named ` +
			`'standard' with version '12345abc-1234-abcd-1234-12345abcde12' and locale 'en-US'","error":"unexpected_error",` +
			`"request_id":"murynd7fhpysq6um"}`},
		{"capture.invalid_argument", `{"stat":"error","code":200,"error_description":"no such form 'registrationform'",` +
			`"error":"invalid_argument","request_id":"rdfbsavfvzb2sxud"}`},
		{"capture.invalid_argument.token", `{"stat":"error","code":200,"error_description":"the token you passed was not valid",` +
			`"error":"invalid_argument","request_id":"f5q326y8ef2tmfcq"}`},
		{"capture.permission_error", `{"stat":"error","code":403,"error_description":"This client does not support log in ` +
			`and registration.","error":"permission_error","request_id":"y3sthb9dey6mv65e"}`},
		{"onegini.idp_disabled", `{"error":"idp_disabled","error_description":"The specified IdP is disabled."}`},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			e, ok := Lookup(tc.id)
			if !ok {
				t.Fatal("missing")
			}
			assertEqual(t, string(e.Body), tc.body, "body")
		})
	}
}

func TestCatalogueExtras(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		keys []string
	}{
		{"capture.record_not_found", []string{"message", "prereg_fields", "prereg_attributes"}},
		{"capture.email_address_in_use", []string{"existing_provider"}},
		{"capture.invalid_form_fields", []string{"invalid_fields"}},
		{"capture.redirect_uri_mismatch", []string{"expected_value", "supplied_value"}},
	}
	for _, tc := range tests {
		e, _ := Lookup(tc.id)
		m := decodeObject(t, e.Body)
		for _, k := range tc.keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %s: %s", tc.id, k, e.Body)
			}
		}
	}
}

// The localized variants must be the default workspace's messages, or the
// gallery would show texts the back end never answers.
func TestCatalogueMessagesComeFromTheDefaultWorkspace(t *testing.T) {
	t.Parallel()
	fixture := string(fixtures.DefaultWorkspace)
	for _, e := range Catalogue() {
		for locale, body := range e.Messages {
			var doc struct {
				InvalidFields map[string][]string `json:"invalid_fields"`
			}
			mustNoError(t, json.Unmarshal(body, &doc), e.ID)
			for _, msgs := range doc.InvalidFields {
				for _, m := range msgs {
					raw, _ := json.Marshal(m)
					if !strings.Contains(fixture, `"`+locale+`": `+string(raw)) {
						t.Errorf("%s %s: %q is not a message of the default workspace", e.ID, locale, m)
					}
				}
			}
		}
	}
	e, _ := Lookup("capture.invalid_form_fields")
	assertContains(t, string(e.Localized("fr-FR").Body), "Les mots de passe ne correspondent pas.", "fr-FR body")
	assertEqual(t, string(e.Localized("de-DE").Body), string(e.Body), "unknown locale")
}

func TestCatalogueReturnsCopies(t *testing.T) {
	t.Parallel()
	a, _ := Lookup("capture.missing_argument")
	a.Body[0] = 'X'
	a.Endpoints[0] = "changed"
	b, _ := Lookup("capture.missing_argument")
	if b.Body[0] != '{' || b.Endpoints[0] == "changed" {
		t.Error("Lookup shares its entries with callers")
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id, endpoint string
		status       int
		pragma       string
	}{
		{"capture.invalid_form_fields", capture.EndpointRegisterNativeTraditional, 200, ""},
		{"capture.authorization_code_expired", capture.EndpointToken, 400, ""},
		{"onegini.invalid_idp_identifier", EndpointOneginiInit, 404, "no-cache"},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			e, _ := Lookup(tc.id)
			a, b := Render(e, tc.endpoint), Render(e, tc.endpoint)
			assertEqual(t, a.Status, tc.status, "status")
			assertEqual(t, a.Header.Get("Content-Type"), "application/json;charset=UTF-8", "Content-Type")
			assertEqual(t, a.Header.Get("Cache-Control"), "no-store", "Cache-Control")
			assertEqual(t, a.Header.Get("Pragma"), tc.pragma, "Pragma")
			if e.Backend == BackendCapture {
				ra, rb := decodeObject(t, a.Body)["request_id"], decodeObject(t, b.Body)["request_id"]
				if ra == rb || ra == decodeObject(t, e.Body)["request_id"] {
					t.Errorf("request ids are not fresh: %v %v", ra, rb)
				}
			}
			assertEqual(t, string(withoutRequestID(t, a.Body)), string(withoutRequestID(t, e.Body)), "body")
		})
	}
}

// withoutRequestID re-encodes a JSON object without its request_id.
func withoutRequestID(t *testing.T, body []byte) []byte {
	t.Helper()
	if len(body) == 0 || body[0] != '{' || !json.Valid(body) {
		return body
	}
	m := decodeObject(t, body)
	delete(m, "request_id")
	raw, err := json.Marshal(m)
	mustNoError(t, err, "encoding")
	return raw
}
