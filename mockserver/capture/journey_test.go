package capture_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"regsandbox/mockserver/workspace"
)

// TestTraditionalJourney: register → sign in with the password → /entity.
func TestTraditionalJourney(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := e.post("/oauth/register_native_traditional", seedRegistration())
	equal(t, "register", reg.body["stat"], any("ok"))
	uuid := reg.body["capture_user"].(map[string]any)["uuid"]

	signIn := e.post("/oauth/auth_native_traditional", signInParams("JohnDoe@example.com", "password123"))
	equal(t, "sign in", signIn.body["stat"], any("ok"))
	equal(t, "signed-in uuid", signIn.body["capture_user"].(map[string]any)["uuid"], uuid)
	if _, ok := signIn.body["is_new"]; ok {
		t.Error("auth_native_traditional must not carry is_new")
	}
	token := signIn.body["access_token"].(string)

	// iOS POSTs /entity with the token as a parameter.
	ent := e.post("/entity", url.Values{"access_token": {token}})
	equal(t, "entity stat", ent.body["stat"], any("ok"))
	result := ent.body["result"].(map[string]any)
	equal(t, "entity uuid", result["uuid"], uuid)
	equal(t, "entity email", result["email"], any("johndoe@example.com"))

	// GET with a bearer token works too.
	req, _ := http.NewRequest(http.MethodGet, e.url+"/entity", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	equal(t, "entity by bearer", e.do(req).body["stat"], any("ok"))
}

func TestSignInErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.post("/oauth/register_native_traditional", seedRegistration())
	tests := []struct {
		name            string
		email, password string
		code            float64
		error           string
	}{
		{"wrong password", "johndoe@example.com", "password124", 210, "invalid_credentials"},
		{"unknown e-mail", "nobody@example.com", "password123", 210, "invalid_credentials"},
		{"missing password", "johndoe@example.com", "", 390, "invalid_form_fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := e.post("/oauth/auth_native_traditional", signInParams(tc.email, tc.password))
			expectError(t, a, http.StatusOK, tc.code, tc.error, "")
			if tc.code == 210 {
				fields := a.body["invalid_fields"].(map[string]any)
				equal(t, "message", fields["signInForm"].([]any)[0], any("Incorrect username or password. Please try again."))
			}
		})
	}
}

// TestSocialJourney: auth_native answers 310 with the profile until the
// token registers, then the same identity signs in.
func TestSocialJourney(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for range 2 { // some clients call auth_native twice before registering
		a := e.post("/oauth/auth_native", authNativeParams())
		expectError(t, a, http.StatusOK, 310, "record_not_found", "")
		prereg := a.body["prereg_fields"].(map[string]any)
		equal(t, "prereg emailAddress", prereg["emailAddress"], any("janedoe@example.com"))
		equal(t, "prereg firstName", prereg["firstName"], any("Jane"))
		equal(t, "prereg displayName", prereg["displayName"], any("JaneDoe"))
	}
	reg := e.post("/oauth/register_native", seedSocialRegistration())
	equal(t, "register_native", reg.body["stat"], any("ok"))
	equal(t, "is_new", reg.body["is_new"], any(true))
	user := reg.body["capture_user"].(map[string]any)
	profiles := user["profiles"].([]any)
	equal(t, "profile domain", profiles[0].(map[string]any)["domain"], any("google"))

	again := e.post("/oauth/register_native", seedSocialRegistration())
	expectError(t, again, http.StatusOK, 200, "invalid_argument", "the token you passed was not valid")

	signIn := e.post("/oauth/auth_native", authNativeParams())
	equal(t, "auth_native after registering", signIn.body["stat"], any("ok"))
	equal(t, "is_new", signIn.body["is_new"], any(false))
	equal(t, "same user", signIn.body["capture_user"].(map[string]any)["uuid"], user["uuid"])
}

// TestAuthNativeInQueryString: the iOS SDK sends every parameter in the
// query string with an empty body.
func TestAuthNativeInQueryString(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodPost, e.url+"/oauth/auth_native?"+authNativeParams().Encode(), nil)
	expectError(t, e.do(req), http.StatusOK, 310, "record_not_found", "")
}

func TestAuthNativeCases(t *testing.T) {
	t.Parallel()
	t.Run("bad token", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		a := e.post("/oauth/auth_native", with(authNativeParams(), "token", "nope"))
		expectError(t, a, http.StatusOK, 200, "invalid_argument", "the token you passed was not valid")
	})
	t.Run("missing token", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		a := e.post("/oauth/auth_native", with(authNativeParams(), "token", ""))
		expectError(t, a, http.StatusOK, 100, "missing_argument", "missing arguments: token")
	})
	t.Run("e-mail used by a password account", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.post("/oauth/register_native_traditional", with(seedRegistration(), "emailAddress", "janedoe@example.com"))
		a := e.post("/oauth/auth_native", authNativeParams())
		expectError(t, a, http.StatusOK, 380, "email_address_in_use", "")
		equal(t, "existing_provider", a.body["existing_provider"], any("capture"))
	})
	t.Run("thin registration", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		a := e.post("/oauth/auth_native", with(authNativeParams(), "thin_registration", "true"))
		equal(t, "stat", a.body["stat"], any("ok"))
		equal(t, "is_new", a.body["is_new"], any(true))
		equal(t, "email", a.body["capture_user"].(map[string]any)["email"], any("janedoe@example.com"))
	})
	t.Run("minted token", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		token, err := e.backend.MintSocialToken(workspace.SocialToken{Provider: "facebook",
			Identifier: "fb-42", Email: "max@example.com", FirstName: "Max"})
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "token length", len(token), 40)
		a := e.post("/oauth/auth_native", with(authNativeParams(), "token", token, "registration_form", "socialRegistrationForm"))
		expectError(t, a, http.StatusOK, 310, "record_not_found", "")
		equal(t, "prereg email", a.body["prereg_fields"].(map[string]any)["emailAddress"], any("max@example.com"))
	})
}

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := e.post("/oauth/register_native_traditional", with(seedRegistration(), "response_type", "code"))
	code := reg.body["authorization_code"].(string)
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://localhost"},
		"client_id": {"12345abcde12345abcde12345abcde12"}, "client_secret": {"example-capture-secret"}}

	bad := e.post("/oauth/token", with(exchange, "redirect_uri", "http://elsewhere"))
	expectError(t, bad, http.StatusBadRequest, 420, "redirect_uri_mismatch", "")
	equal(t, "expected_value", bad.body["expected_value"], any("http://localhost"))

	expectError(t, e.post("/oauth/token", with(exchange, "client_secret", "wrong")), http.StatusBadRequest, 402, "invalid_client_credentials", "")
	expectError(t, e.post("/oauth/token", with(exchange, "code", "")), http.StatusBadRequest, 100, "missing_argument", "missing arguments: code")

	tok := e.post("/oauth/token", exchange)
	equal(t, "HTTP status", tok.status, http.StatusOK)
	equal(t, "stat", tok.body["stat"], any("ok"))
	equal(t, "expires_in", tok.body["expires_in"], any(float64(3600)))
	refresh := tok.body["refresh_token"].(string)

	// A code is good for one exchange.
	expectError(t, e.post("/oauth/token", exchange), http.StatusBadRequest, 200, "invalid_argument", "")

	// Refresh by HTTP Basic client authentication.
	req, _ := http.NewRequest(http.MethodPost, e.url+"/oauth/token",
		strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("12345abcde12345abcde12345abcde12", "example-capture-secret")
	refreshed := e.do(req)
	equal(t, "refresh stat", refreshed.body["stat"], any("ok"))
	ent := e.post("/entity", url.Values{"access_token": {refreshed.body["access_token"].(string)}})
	equal(t, "entity with refreshed token", ent.body["stat"], any("ok"))
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := e.post("/oauth/register_native_traditional", with(seedRegistration(), "response_type", "code_and_token"))
	token := reg.body["access_token"].(string)
	e.clock.Advance(time.Hour)
	expectError(t, e.post("/entity", url.Values{"access_token": {token}}), http.StatusOK, 414, "access_token_expired", "")
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {reg.body["authorization_code"].(string)},
		"redirect_uri": {"http://localhost"}, "client_id": {"12345abcde12345abcde12345abcde12"},
		"client_secret": {"example-capture-secret"}}
	expectError(t, e.post("/oauth/token", exchange), http.StatusBadRequest, 415, "authorization_code_expired", "")
}

func TestEntityErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	expectError(t, e.post("/entity", url.Values{}), http.StatusOK, 100, "missing_argument", "missing arguments: access_token")
	expectError(t, e.post("/entity", url.Values{"access_token": {"nope"}}), http.StatusOK, 200, "invalid_argument", "")
}

func TestFlowDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, err := http.Get(e.url + "/widget_data/flows/example-app/standard/20190618143040022299/fr-FR.json")
	if err != nil {
		t.Fatal(err)
	}
	a := e.read(resp)
	equal(t, "HTTP status", a.status, http.StatusOK)
	fields := a.body["fields"].(map[string]any)
	email := fields["emailAddress"].(map[string]any)
	equal(t, "label", email["label"], any("Adresse e-mail"))
	equal(t, "schemaId", email["schemaId"], any("email"))
	form := a.body["forms"].(map[string]any)["registrationForm"].(map[string]any)
	equal(t, "registrationForm fields", len(form["fields"].([]any)), 7)

	resp, err = http.Get(e.url + "/widget_data/flows/example-app/standard/nope/en-US.json")
	if err != nil {
		t.Fatal(err)
	}
	expectError(t, e.read(resp), http.StatusNotFound, 500, "unexpected_error", "")
}

func TestDeleteUserFreesEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reg := e.post("/oauth/register_native_traditional", seedRegistration())
	if err := e.backend.DeleteUser(reg.body["capture_user"].(map[string]any)["uuid"].(string)); err != nil {
		t.Fatal(err)
	}
	equal(t, "second registration", e.post("/oauth/register_native_traditional", seedRegistration()).body["stat"], any("ok"))
}
