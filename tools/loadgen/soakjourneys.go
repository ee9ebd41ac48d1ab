package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// Endpoints and seed values of the soak's journeys.
const (
	pathRegister       = "/oauth/register_native_traditional"
	pathRegisterSocial = "/oauth/register_native"
	pathAuthNative     = "/oauth/auth_native"
	pathSignIn         = "/oauth/auth_native_traditional"
	pathEntity         = "/entity"
	pathFlow           = "/widget_data/flows/example-app/standard/20190618143040022299/en-US.json"
	pathMint           = "/__admin/capture/social-tokens"
	pathBackchannel    = "/oauth/api/v3/custom-registration/ExampleId/backchannel"
	pathQRBackchannel  = "/oauth/api/v3/custom-registration/QrCodeIdp/backchannel"
	pathQRComplete     = "/oauth/custom-registration/QrCodeIdp/complete"
	versionTraditional = "20190618143040022299"
	versionSocial      = "67890def-6789-defg-6789-67890defgh67"
	soakPassword       = "password123"
	apiClient, apiKey  = "example-api-client", "example-api-secret"
	appClient, appKey  = "example-app-client", "example-app-secret"
	statOK             = `"stat":"ok"`
	// ringSize bounds the addresses a worker remembers for sign-ins.
	ringSize = 64
)

// soakWorker runs journeys one after the other on one connection.
type soakWorker struct {
	m       *soakMix
	w       int
	emails  []string // a ring of the addresses this worker registered
	next    int      // the ring slot the next address overwrites
	turns   int      // journeys started
	signIns int
	auths   int
}

// run runs the schedule, from the worker's offset, until the deadline or
// the budget.
func (k *soakWorker) run(ctx context.Context, deadline time.Time) {
	for ctx.Err() == nil && time.Now().Before(deadline) {
		j := soakSchedule[(k.w+k.turns)%len(soakSchedule)]
		k.turns++
		if j(k, ctx) == errBudget {
			return
		}
	}
}

// register registers a user with a unique e-mail address and remembers
// the address for sign-ins.
func (k *soakWorker) register(ctx context.Context) error {
	u := k.m.unique()
	email := "sk" + u + "@example.com"
	_, err := k.m.do(ctx, callRegister, formPost(pathRegister, registration(email, "SK"+u)), wants(statOK))
	if err == nil {
		k.remember(email)
	}
	return err
}

// remember keeps email in the ring, over the oldest once it is full.
func (k *soakWorker) remember(email string) {
	if len(k.emails) < ringSize {
		k.emails = append(k.emails, email)
		return
	}
	k.emails[k.next] = email
	k.next = (k.next + 1) % ringSize
}

// signIn signs in a user this worker registered with its password, then
// reads the user with the access token.
func (k *soakWorker) signIn(ctx context.Context) error {
	if len(k.emails) == 0 {
		return k.register(ctx)
	}
	email := k.emails[k.signIns%len(k.emails)]
	k.signIns++
	params := captureParams(versionTraditional, "form", "signInForm", "signInEmailAddress", email, "currentPassword", soakPassword)
	body, err := k.m.do(ctx, callSignIn, formPost(pathSignIn, params), wants(statOK))
	if err != nil {
		return err
	}
	token, err := k.m.field(callSignIn, body, "access_token")
	if err != nil {
		return err
	}
	return k.entity(ctx, token, email)
}

// entity reads the signed-in user, by a bearer token or by a parameter
// (as iOS does), in turn.
func (k *soakWorker) entity(ctx context.Context, token, email string) error {
	r := soakRequest{method: http.MethodGet, path: pathEntity, bearer: token}
	if k.signIns%2 == 0 {
		r = formPost(pathEntity, url.Values{"access_token": {token}})
	}
	_, err := k.m.do(ctx, callEntity, r, wants(statOK, `"email":"`+email+`"`))
	return err
}

// auth310 is a social sign-in of an identity without an account: 310.
func (k *soakWorker) auth310(ctx context.Context) error {
	m := k.m
	token := m.tokens[k.w+m.conns*(k.auths%(len(m.tokens)/m.conns))]
	k.auths++
	params := captureParams(versionSocial, "token", token)
	_, err := m.do(ctx, callAuth310, formPost(pathAuthNative, params), wants(`"code":310`, `"record_not_found"`))
	return err
}

// socialJourney is the whole social registration with a fresh token:
// auth_native answers 310, register_native registers, auth_native signs
// the new user in.
func (k *soakWorker) socialJourney(ctx context.Context) error {
	u := k.m.unique()
	token, err := k.mint(ctx, u)
	if err != nil {
		return err
	}
	auth := formPost(pathAuthNative, captureParams(versionSocial, "token", token))
	if _, err := k.m.do(ctx, callSocialAuth, auth, wants(`"code":310`)); err != nil {
		return err
	}
	reg := formPost(pathRegisterSocial, socialRegistration(token, u))
	if _, err := k.m.do(ctx, callSocialRegister, reg, wants(statOK, `"is_new":true`)); err != nil {
		return err
	}
	_, err = k.m.do(ctx, callSocialSignIn, auth, wants(statOK, `"is_new":false`))
	return err
}

// mint asks the admin API for a social token of a new identity.
func (k *soakWorker) mint(ctx context.Context, u string) (string, error) {
	profile, _ := json.Marshal(map[string]string{"provider": "google", "identifier": "sj-" + u,
		"email": socialEmail(u), "firstName": "Jane", "lastName": "Doe", "displayName": "SJ" + u})
	r := soakRequest{method: http.MethodPost, path: pathMint, body: string(profile), contentType: "application/json"}
	body, err := k.m.do(ctx, callMint, r, wants(`"token"`))
	if err != nil {
		return "", err
	}
	return k.m.field(callMint, body, "token")
}

// backchannel is the Onegini seed: the ExampleId backchannel.
func (k *soakWorker) backchannel(ctx context.Context) error {
	r := oneginiPost(pathBackchannel, apiClient, apiKey, `{"data":"{\"custom_key\":\"custom_data\"}"}`)
	_, err := k.m.do(ctx, callBackchannel, r, wants(`"status":2000`))
	return err
}

// qr is the QR-code registration: the backchannel stores a code for a
// user id, complete redeems it as the app and gets tokens.
func (k *soakWorker) qr(ctx context.Context) error {
	payload, _ := json.Marshal(map[string]string{"data": `{"userId":"u-` + k.m.unique() + `"}`})
	r := oneginiPost(pathQRBackchannel, apiClient, apiKey, string(payload))
	body, err := k.m.do(ctx, callQRBackchannel, r, wants(`"status":2000`))
	if err != nil {
		return err
	}
	code, err := k.m.field(callQRBackchannel, body, "data")
	if err != nil {
		return err
	}
	payload, _ = json.Marshal(map[string]string{"data": code})
	r = oneginiPost(pathQRComplete, appClient, appKey, string(payload))
	_, err = k.m.do(ctx, callQRComplete, r, wants(`"status":2000`, `"access_token"`))
	return err
}

// flow downloads the flow document.
func (k *soakWorker) flow(ctx context.Context) error {
	_, err := k.m.do(ctx, callFlow, soakRequest{method: http.MethodGet, path: pathFlow}, wants(`"fields"`))
	return err
}

// errors sends the seed's two client errors: a form that does not exist
// and a registration without flow.
func (k *soakWorker) errors(ctx context.Context) error {
	wrong := with(registration("nobody@example.com", "Nobody"), "form", "registrationform")
	_, err := k.m.do(ctx, callWrongForm, formPost(pathRegister, wrong),
		wants(`"code":200`, `"no such form 'registrationform'"`))
	if err != nil {
		return err
	}
	missing := with(registration("nobody@example.com", "Nobody"), "flow", "")
	_, err = k.m.do(ctx, callMissingFlow, formPost(pathRegister, missing),
		wants(`"code":100`, `"missing arguments: flow"`))
	return err
}

// captureParams are the parameters every Capture call carries, for the
// given flow version, with name–value pairs set on top.
func captureParams(version string, pairs ...string) url.Values {
	v := url.Values{"client_id": {captureClientID}, "flow": {"standard"}, "flow_version": {version},
		"locale": {"en-US"}, "redirect_uri": {"http://localhost"}}
	return with(v, pairs...)
}

// with sets name–value pairs on v, removing a name whose value is empty,
// and returns v.
func with(v url.Values, pairs ...string) url.Values {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			v.Del(pairs[i])
		} else {
			v.Set(pairs[i], pairs[i+1])
		}
	}
	return v
}

// registration is the seed's traditional registration for email.
func registration(email, displayName string) url.Values {
	return captureParams(versionTraditional, "response_type", "token", "form", "registrationForm",
		"emailAddress", email, "newPassword", soakPassword, "newPasswordConfirm", soakPassword,
		"firstName", "John", "lastName", "Doe", "displayName", displayName,
		"birthdate[dateselect_year]", "1930", "birthdate[dateselect_month]", "11", "birthdate[dateselect_day]", "3")
}

// socialRegistration is the seed's social registration with token, for
// the identity minted with the unique value u.
func socialRegistration(token, u string) url.Values {
	return captureParams(versionSocial, "token", token, "form", "socialRegistrationForm",
		"emailAddress", socialEmail(u), "firstName", "Jane", "lastName", "Doe", "displayName", "SJ"+u,
		"birthdate[dateselect_year]", "1930", "birthdate[dateselect_month]", "11", "birthdate[dateselect_day]", "3")
}

// socialEmail is the address of the social identity minted with u.
func socialEmail(u string) string { return "sj" + u + "@example.com" }

// formPost is a url-encoded POST of v.
func formPost(path string, v url.Values) soakRequest {
	return soakRequest{method: http.MethodPost, path: path, body: v.Encode(),
		contentType: "application/x-www-form-urlencoded"}
}

// oneginiPost is a JSON POST to an Onegini endpoint as the given client.
func oneginiPost(path, user, pass, body string) soakRequest {
	return soakRequest{method: http.MethodPost, path: path, body: body,
		contentType: "application/json", user: user, pass: pass}
}
