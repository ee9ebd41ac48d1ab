package capture_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"regsandbox/mockserver/workspace"
)

func TestSeedTraditionalRegistration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.post("/oauth/register_native_traditional", seedRegistration())
	equal(t, "HTTP status", a.status, http.StatusOK)
	equal(t, "stat", a.body["stat"], any("ok"))
	if tok, _ := a.body["access_token"].(string); len(tok) != 16 {
		t.Errorf("access_token = %q, want 16 characters", tok)
	}
	user, ok := a.body["capture_user"].(map[string]any)
	if !ok {
		t.Fatalf("capture_user is not an object: %s", a.raw)
	}
	for attr, want := range map[string]any{"email": "johndoe@example.com", "givenName": "John",
		"familyName": "Doe", "displayName": "JohnDoe", "birthday": "1930-11-03"} {
		equal(t, "capture_user."+attr, user[attr], want)
	}
	if _, ok := user["uuid"].(string); !ok {
		t.Error("capture_user.uuid missing")
	}
	if created, _ := user["created"].(string); !strings.HasSuffix(created, " +0000") || len(created) != 32 {
		t.Errorf("created = %q, want the form 2016-04-20 17:02:18.649505 +0000", created)
	}
	if strings.Contains(a.raw, "password") {
		t.Errorf("the answer mentions the password: %s", a.raw)
	}
	equal(t, "Content-Type", a.header.Get("Content-Type"), "application/json;charset=UTF-8")
}

// TestSeedErrors reproduces every error example of the seeds by changing
// the seed request as the seed describes.
func TestSeedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		path        string
		params      url.Values
		code        float64
		error       string
		description string
	}{
		{"wrong form case", "/oauth/register_native_traditional", with(seedRegistration(), "form", "registrationform"),
			200, "invalid_argument", "no such form 'registrationform'"},
		{"missing flow", "/oauth/register_native_traditional", with(seedRegistration(), "flow", ""),
			100, "missing_argument", "missing arguments: flow"},
		{"several missing", "/oauth/register_native_traditional", with(seedRegistration(), "flow", "", "locale", "", "form", ""),
			100, "missing_argument", "missing arguments: flow, locale, form"},
		{"bad flow version", "/oauth/register_native_traditional", with(seedRegistration(), "flow_version", "12345abc-1234-abcd-1234-12345abcde12"),
			500, "unexpected_error", "could not find a flow named 'standard' with version '12345abc-1234-abcd-1234-12345abcde12' and locale 'en-US'"},
		{"unknown locale", "/oauth/register_native_traditional", with(seedRegistration(), "locale", "de-DE"),
			500, "unexpected_error", "could not find a flow named 'standard' with version '20190618143040022299' and locale 'de-DE'"},
		{"client without login_client", "/oauth/register_native_traditional", with(seedRegistration(), "client_id", "restricted-client"),
			403, "permission_error", "This client does not support log in and registration."},
		{"unknown client", "/oauth/register_native_traditional", with(seedRegistration(), "client_id", "nobody"),
			200, "invalid_argument", ""},
		{"redirect_uri not http", "/oauth/register_native_traditional", with(seedRegistration(), "redirect_uri", "myapp://callback"),
			200, "invalid_argument", "redirect_uri must begin with http: or https:"},
		{"bad response_type", "/oauth/register_native_traditional", with(seedRegistration(), "response_type", "id_token"),
			200, "invalid_argument", ""},
		{"social wrong form case", "/oauth/register_native", with(seedSocialRegistration(), "form", "socialregistrationform"),
			200, "invalid_argument", "no such form 'socialregistrationform'"},
		{"social missing flow", "/oauth/register_native", with(seedSocialRegistration(), "flow", ""),
			100, "missing_argument", "missing arguments: flow"},
		{"social bad flow version", "/oauth/register_native", with(seedSocialRegistration(), "flow_version", "12345abc-1234-abcd-1234-12345abcde12"),
			500, "unexpected_error", "could not find a flow named 'standard' with version '12345abc-1234-abcd-1234-12345abcde12' and locale 'en-US'"},
		{"social client without login_client", "/oauth/register_native", with(seedSocialRegistration(), "client_id", "restricted-client"),
			403, "permission_error", "This client does not support log in and registration."},
		{"token used before auth_native", "/oauth/register_native", seedSocialRegistration(),
			200, "invalid_argument", "the token you passed was not valid"},
		{"unknown token", "/oauth/register_native", with(seedSocialRegistration(), "token", strings.Repeat("x", 40)),
			200, "invalid_argument", "the token you passed was not valid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			expectError(t, e.post(tc.path, tc.params), http.StatusOK, tc.code, tc.error, tc.description)
		})
	}
}

// TestQueryParametersAreIgnored: the registration calls read the body only.
func TestQueryParametersAreIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodPost, e.url+"/oauth/register_native_traditional?"+seedRegistration().Encode(), nil)
	a := e.do(req)
	expectError(t, a, http.StatusOK, 100, "missing_argument",
		"missing arguments: client_id, flow, flow_version, locale, redirect_uri, form")
}

func TestValidationReportsEveryFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.post("/oauth/register_native_traditional", seedRegistration())
	equal(t, "first registration", first.body["stat"], any("ok"))
	// The seed's example: display name taken, e-mail missing, passwords differ.
	a := e.post("/oauth/register_native_traditional", with(seedRegistration(),
		"emailAddress", "", "newPasswordConfirm", "password124"))
	expectError(t, a, http.StatusOK, 390, "invalid_form_fields", "some inputs are invalid")
	fields, _ := a.body["invalid_fields"].(map[string]any)
	want := map[string]string{
		"displayName":        "That display name is already taken.",
		"emailAddress":       "Email address is required.",
		"newPasswordConfirm": "Passwords do not match.",
	}
	if len(fields) != len(want) {
		t.Fatalf("invalid_fields = %v, want exactly %v", fields, want)
	}
	for field, msg := range want {
		msgs, _ := fields[field].([]any)
		if len(msgs) != 1 || msgs[0] != msg {
			t.Errorf("invalid_fields.%s = %v, want [%q]", field, fields[field], msg)
		}
	}
	// The keys come in the seed's order.
	if !strings.Contains(a.raw, `"invalid_fields":{"displayName":["That display name is already taken."],"emailAddress":["Email address is required."],"newPasswordConfirm":["Passwords do not match."]}`) {
		t.Errorf("invalid_fields not written as in the seed: %s", a.raw)
	}
}

func TestValidationRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		changes []string
		field   string
		want    []string
	}{
		{"bad e-mail format", []string{"emailAddress", "not-an-email"}, "emailAddress", []string{"Invalid email address."}},
		{"control character in the e-mail", []string{"emailAddress", "john\x00doe@example.com"}, "emailAddress", []string{"Invalid email address."}},
		{"line break in the e-mail", []string{"emailAddress", "john@example.com\r\nBcc: x@example.com"}, "emailAddress", []string{"Invalid email address."}},
		{"short password and mismatch", []string{"newPassword", "short", "newPasswordConfirm", "short"}, "newPassword",
			[]string{"Password must be at least 8 characters."}},
		{"too long first name", []string{"firstName", strings.Repeat("é", 65)}, "firstName",
			[]string{"First name must be 64 characters or fewer."}},
		{"too young", []string{"birthdate[dateselect_year]", "2020"}, "birthdate",
			[]string{"You must be at least 13 years old to register."}},
		{"not a date", []string{"birthdate[dateselect_month]", "2", "birthdate[dateselect_day]", "30"}, "birthdate",
			[]string{"Please enter a valid date."}},
		{"partial date", []string{"birthdate[dateselect_day]", ""}, "birthdate", []string{"Please enter a valid date."}},
		{"missing password confirmation", []string{"newPasswordConfirm", ""}, "newPasswordConfirm",
			[]string{"Password confirmation is required."}},
		{"localized in fr-FR", []string{"locale", "fr-FR", "emailAddress", ""}, "emailAddress",
			[]string{"L'adresse e-mail est obligatoire."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			a := e.post("/oauth/register_native_traditional", with(seedRegistration(), tc.changes...))
			expectError(t, a, http.StatusOK, 390, "invalid_form_fields", "some inputs are invalid")
			fields, _ := a.body["invalid_fields"].(map[string]any)
			got, _ := fields[tc.field].([]any)
			if len(got) != len(tc.want) {
				t.Fatalf("invalid_fields.%s = %v, want %v (all: %s)", tc.field, got, tc.want, a.raw)
			}
			for i := range got {
				equal(t, "message", got[i], any(tc.want[i]))
			}
		})
	}
}

func TestBirthdateIsOptional(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.post("/oauth/register_native_traditional", with(seedRegistration(),
		"birthdate[dateselect_year]", "", "birthdate[dateselect_month]", "", "birthdate[dateselect_day]", ""))
	equal(t, "stat", a.body["stat"], any("ok"))
}

func TestEmailIsUniqueIgnoringCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.post("/oauth/register_native_traditional", seedRegistration())
	a := e.post("/oauth/register_native_traditional", with(seedRegistration(),
		"emailAddress", "JohnDoe@Example.com", "displayName", "Other"))
	expectError(t, a, http.StatusOK, 390, "invalid_form_fields", "")
	fields, _ := a.body["invalid_fields"].(map[string]any)
	equal(t, "messages", len(fields["emailAddress"].([]any)), 1)
}

// TestConcurrentRegistrationsOfOneEmail: exactly one of many simultaneous
// registrations of the same address wins.
func TestConcurrentRegistrationsOfOneEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := e.post("/oauth/register_native_traditional", with(seedRegistration(),
				"displayName", "John"+strings.Repeat("x", i)))
			if a.body["stat"] == "ok" {
				mu.Lock()
				created++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	equal(t, "registrations that succeeded", created, 1)
	users, err := e.backend.Users()
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "users", len(users), 1)
}

func TestResponseTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		responseType        string
		wantToken, wantCode bool
	}{
		{"token", true, false},
		{"", true, false},
		{"code", false, true},
		{"code_and_token", true, true},
	}
	for _, tc := range tests {
		t.Run("response_type="+tc.responseType, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			a := e.post("/oauth/register_native_traditional", with(seedRegistration(), "response_type", tc.responseType))
			_, hasToken := a.body["access_token"]
			code, hasCode := a.body["authorization_code"].(string)
			equal(t, "has access_token", hasToken, tc.wantToken)
			equal(t, "has authorization_code", hasCode, tc.wantCode)
			if hasCode && len(code) != 14 {
				t.Errorf("authorization_code %q is not 14 characters", code)
			}
		})
	}
}

// TestDefaultFlowClient: a client with default_flow_name and
// default_flow_version registers without sending flow or flow_version.
func TestDefaultFlowClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.post("/oauth/register_native_traditional", with(seedRegistration(),
		"client_id", "defaults-client", "flow", "", "flow_version", ""))
	equal(t, "stat", a.body["stat"], any("ok"))
}

// TestEmailStaysUniqueWithoutARule: Capture never lets two records share
// an address, even when the form has no unique rule on it.
func TestEmailStaysUniqueWithoutARule(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(ws *workspace.Workspace) {
		field, _ := ws.Capture.Flows[0].Field("emailAddress")
		field.Validations = slices.DeleteFunc(field.Validations, func(v workspace.Validation) bool { return v.Rule == workspace.RuleUnique })
	})
	e.post("/oauth/register_native_traditional", seedRegistration())
	a := e.post("/oauth/register_native_traditional", with(seedRegistration(), "displayName", "Other"))
	expectError(t, a, http.StatusOK, 390, "invalid_form_fields", "")
	fields := a.body["invalid_fields"].(map[string]any)
	equal(t, "message", fields["emailAddress"].([]any)[0], any("Email address is already in use."))
}
