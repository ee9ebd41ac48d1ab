package faults

import (
	"regsandbox/mockserver/capture"
)

// Texts the seeds show; the gallery must match them character for
// character.
const (
	seedMissingFlow  = "missing arguments: flow"
	seedNoSuchForm   = "no such form 'registrationform'"
	seedInvalidToken = "the token you passed was not valid"
	seedNoFlow       = "could not find a flow named 'standard' with version " +
		"'12345abc-1234-abcd-1234-12345abcde12' and locale 'en-US'"
	seedPermission    = "This client does not support log in and registration."
	seedInvalidInputs = "some inputs are invalid"
)

// Localized messages of the default workspace (fixtures/workspace.json),
// for the errors whose text comes from the flow.
const (
	msgDisplayNameTakenEN = "That display name is already taken."
	msgDisplayNameTakenFR = "Ce pseudonyme est déjà pris."
	msgEmailRequiredEN    = "Email address is required."
	msgEmailRequiredFR    = "L'adresse e-mail est obligatoire."
	msgPasswordsDifferEN  = "Passwords do not match."
	msgPasswordsDifferFR  = "Les mots de passe ne correspondent pas."
	msgBadCredentialsEN   = "Incorrect username or password. Please try again."
	msgBadCredentialsFR   = "Nom d'utilisateur ou mot de passe incorrect. Veuillez réessayer."
)

// invalidFields is the seed's 390 example: one failing rule on each of
// three fields of registrationForm.
func invalidFields(displayName, email, confirm string) map[string][]string {
	return map[string][]string{
		"displayName":        {displayName},
		"emailAddress":       {email},
		"newPasswordConfirm": {confirm},
	}
}

// badCredentials is the 210 answer: the message is keyed by the sign-in
// form, as the back end writes it.
func badCredentials(message string) capture.Error {
	return capture.Error{Code: 210, Name: "invalid_credentials", Description: seedInvalidInputs,
		InvalidFields: map[string][]string{"signInForm": {message}}}
}

// captureSpecs lists every documented Capture error in code order. Texts
// come from the seeds where they show the error, and otherwise follow
// Capture's style: lowercase, naming what was wrong.
func captureSpecs() []captureSpec {
	return []captureSpec{
		{err: capture.Error{Code: 100, Name: "missing_argument", Description: seedMissingFlow},
			requestID: "uyeem84bmqmnjuu4", endpoints: endpoints(captureAPI),
			about: "A required parameter is missing, here flow (the client has no default flow)."},
		{err: capture.Error{Code: 200, Name: "invalid_argument", Description: seedNoSuchForm},
			requestID: "rdfbsavfvzb2sxud", endpoints: endpoints(captureOAuth),
			about: "A parameter has an invalid value, here a form name in the wrong case (form names are case-sensitive)."},
		{err: capture.Error{Code: 200, Name: "invalid_argument", Description: seedInvalidToken},
			id: "capture.invalid_argument.token", requestID: "f5q326y8ef2tmfcq",
			endpoints: endpoints([]string{capture.EndpointAuthNative, capture.EndpointRegisterNative}),
			about:     "The Social Login token is invalid or expired, or register_native was called before auth_native."},
		{err: capture.Error{Code: 201, Name: "duplicate_argument", Description: "arguments 'id' and 'uuid' cannot be used together"},
			endpoints: endpoints(captureAPI),
			about:     "Two parameters that exclude each other were both given."},
		{err: capture.Error{Code: 205, Name: "invalid_auth_method", Description: "the request used an unsupported authentication method"},
			endpoints: endpoints([]string{capture.EndpointToken, capture.EndpointEntity}),
			about:     "The client authenticated with something other than HTTP Basic, a signature or an access token."},
		{err: badCredentials(msgBadCredentialsEN), endpoints: endpoints([]string{capture.EndpointAuthNativeTraditional}),
			localized: map[string]capture.Error{"fr-FR": badCredentials(msgBadCredentialsFR)},
			about:     "Sign-in failed: unknown e-mail address or wrong password. The message comes from the flow, in the request's locale."},
		{err: capture.Error{Code: 211, Name: "no_password", Description: "this account has no password; sign in with its social identity"},
			endpoints: endpoints([]string{capture.EndpointAuthNativeTraditional}),
			about:     "The account was created by social registration and has no password."},
		{err: capture.Error{Code: 212, Name: "no_such_account", Description: "no account matches these credentials"},
			endpoints: endpoints([]string{capture.EndpointAuthNativeTraditional}),
			about:     "No account exists for the given e-mail address."},
		{err: capture.Error{Code: 213, Name: "password_incorrect", Description: "the password is incorrect"},
			endpoints: endpoints([]string{capture.EndpointAuthNativeTraditional}),
			about:     "The account exists but the password does not match."},
		{err: capture.Error{Code: 221, Name: "unknown_application", Description: "unknown application 'example-app'"},
			endpoints: endpoints(captureAll),
			about:     "The application id of the request is not known."},
		{err: capture.Error{Code: 222, Name: "unknown_entity_type", Description: "unknown entity type 'users'"},
			endpoints: endpoints(captureRegister, []string{capture.EndpointEntity}),
			about:     "The entity type (user database) does not exist."},
		{err: capture.Error{Code: 223, Name: "unknown_attribute", Description: "unknown attribute 'favoriteColor'"},
			endpoints: endpoints(captureRegister, []string{capture.EndpointEntity}),
			about:     "A field maps to an attribute the schema does not have."},
		{err: capture.Error{Code: 224, Name: "application_not_found", Description: "application not found"},
			endpoints: endpoints(captureAll),
			about:     "The application the client belongs to does not exist any more."},
		{err: capture.Error{Code: 226, Name: "flow_error", Description: "the flow 'standard' could not be loaded"},
			endpoints: endpoints(captureOAuth, []string{capture.EndpointFlow}),
			about:     "The flow exists but is broken, e.g. a form names a field the flow lacks."},
		{err: capture.Error{Code: 300, Name: "error_creating_record", Description: "could not create the user record"},
			endpoints: endpoints(captureRegister, []string{capture.EndpointAuthNative}),
			about:     "Registration was valid but storing the new user failed."},
		{err: recordNotFound(), endpoints: endpoints([]string{capture.EndpointAuthNative}),
			about: "Social sign-in with an identity no user is linked to yet: the app shows the social registration form, " +
				"pre-filled from prereg_fields."},
		{err: capture.Error{Code: 330, Name: "timestamp_mismatch", Description: "the record was changed after the given lastUpdated timestamp"},
			endpoints: endpoints([]string{capture.EndpointEntity}),
			about:     "An update carried a created or lastUpdated value that no longer matches the record."},
		{err: capture.Error{Code: 340, Name: "invalid_data_format", Description: "attribute 'birthday' must be a date"},
			endpoints: endpoints(captureRegister, []string{capture.EndpointEntity}),
			about:     "A value has the wrong type for its attribute, e.g. a string where a number is expected."},
		{err: capture.Error{Code: 341, Name: "invalid_json_type", Description: "the value of attribute 'primaryAddress' is not a JSON object"},
			endpoints: endpoints(captureRegister, []string{capture.EndpointEntity}),
			about:     "A value is not valid JSON or is the wrong kind of JSON value."},
		{err: capture.Error{Code: 342, Name: "invalid_date_time", Description: "'1930-13-03' is not a valid date"},
			endpoints: endpoints(captureRegister, []string{capture.EndpointEntity}),
			about:     "A date or date-time value is not valid."},
		{err: capture.Error{Code: 360, Name: "constraint_violation", Description: "attribute 'email' violates a constraint"},
			endpoints: endpoints(captureRegister, []string{capture.EndpointEntity}),
			about:     "A value breaks a schema constraint (catch-all of the 36x codes)."},
		{err: capture.Error{Code: 361, Name: "unique_violation", Description: "attribute 'displayName' must be unique: 'JohnDoe' is already used"},
			endpoints: endpoints(captureRegister, []string{capture.EndpointEntity}),
			about:     "A value of a unique attribute is already used by another record."},
		{err: capture.Error{Code: 362, Name: "missing_required_attribute", Description: "missing required attribute 'email'"},
			endpoints: endpoints(captureRegister, []string{capture.EndpointEntity}),
			about:     "A record was created without an attribute the schema requires."},
		{err: capture.Error{Code: 363, Name: "length_violation", Description: "attribute 'displayName' is longer than 64 characters"},
			endpoints: endpoints(captureRegister, []string{capture.EndpointEntity}),
			about:     "A string value is longer than its attribute allows."},
		{err: capture.Error{Code: 380, Name: "email_address_in_use", Description: "email address is already in use",
			ExistingProvider: "capture"},
			endpoints: endpoints([]string{capture.EndpointAuthNative, capture.EndpointRegisterNative}),
			about: "Social sign-in or registration with an e-mail address another account already uses; " +
				"existing_provider says how that account signs in (capture means with a password)."},
		{err: capture.Error{Code: 390, Name: "invalid_form_fields", Description: seedInvalidInputs,
			InvalidFields: invalidFields(msgDisplayNameTakenEN, msgEmailRequiredEN, msgPasswordsDifferEN)},
			requestID: "eyt2p5thkwch5h2h",
			endpoints: endpoints(captureRegister, []string{capture.EndpointAuthNativeTraditional}),
			localized: map[string]capture.Error{"fr-FR": {Code: 390, Name: "invalid_form_fields", Description: seedInvalidInputs,
				InvalidFields: invalidFields(msgDisplayNameTakenFR, msgEmailRequiredFR, msgPasswordsDifferFR)}},
			about: "Form validation failed: every failing rule of every field, with the flow's messages in the request's locale."},
		{err: capture.Error{Code: 402, Name: "invalid_client_credentials", Description: "invalid client credentials"},
			endpoints: endpoints(captureAPI),
			about:     "The client id is unknown or the client secret is wrong."},
		{err: capture.Error{Code: 403, Name: "client_permission_error", Description: "this client does not have permission to perform this action"},
			endpoints: endpoints([]string{capture.EndpointToken, capture.EndpointEntity}),
			about:     "The API client lacks the feature the call needs."},
		{err: capture.Error{Code: 403, Name: "permission_error", Description: seedPermission},
			requestID: "y3sthb9dey6mv65e", endpoints: endpoints(captureOAuth),
			about: "The client is not configured with the login_client feature."},
		{err: capture.Error{Code: 413, Name: "no_access_grant", Description: "no access grant exists for this client and user"},
			endpoints: endpoints([]string{capture.EndpointToken, capture.EndpointEntity}),
			about:     "The refresh token or access token was revoked, or never granted to this client."},
		{err: capture.Error{Code: 414, Name: "access_token_expired", Description: "access token expired"},
			endpoints: endpoints([]string{capture.EndpointEntity}),
			about:     "The access token is past its lifetime (an hour by default); the app must refresh it."},
		{err: capture.Error{Code: 415, Name: "authorization_code_expired", Description: "authorization code expired"},
			endpoints: endpoints([]string{capture.EndpointToken}),
			about:     "The authorization code was used too late or twice."},
		{err: capture.Error{Code: 417, Name: "creation_token_expired", Description: "creation token expired"},
			endpoints: endpoints(captureRegister),
			about:     "The creation token that allowed making a record has expired."},
		{err: capture.Error{Code: 420, Name: "redirect_uri_mismatch", Description: "redirect_uri does not match the one used to get the code",
			ExpectedValue: "http://localhost", SuppliedValue: "http://localhost/callback"},
			endpoints: endpoints([]string{capture.EndpointToken}),
			about:     "The token request's redirect_uri differs from the one given when the code was issued."},
		{err: capture.Error{Code: 480, Name: "api_feature_disabled", Description: "this API feature is disabled for the application"},
			endpoints: endpoints(captureAPI),
			about:     "The call is turned off for this application."},
		{err: capture.Error{Code: 500, Name: "unexpected_error", Description: seedNoFlow},
			requestID: "murynd7fhpysq6um", endpoints: endpoints(captureAll),
			about: "Catch-all internal error; the seeds show it for an unknown flow, version or locale."},
		{err: capture.Error{Code: 510, Name: "api_limit_error", Description: "the application exceeded its API call limit"},
			endpoints: endpoints(captureAll),
			about:     "Rate limiting: too many calls for this application."},
		{err: capture.Error{Code: 540, Name: "triggered_error", Description: "an error was triggered by an application rule"},
			endpoints: endpoints(captureAPI),
			about:     "A rule configured on the application refused the call on purpose."},
	}
}

// recordNotFound is the 310 answer for the default workspace's social
// token (Jane Doe's Google profile), shaped as the back end builds it.
func recordNotFound() capture.Error {
	return capture.Error{Code: 310, Name: "record_not_found", Description: "user not found",
		Message: "no user is linked to this social identity yet; register it with /oauth/register_native",
		PreregFields: map[string]any{
			"emailAddress": "janedoe@example.com", "firstName": "Jane", "lastName": "Doe", "displayName": "JaneDoe",
		},
		PreregAttributes: map[string]any{
			"email": "janedoe@example.com", "givenName": "Jane", "familyName": "Doe", "displayName": "JaneDoe",
		},
	}
}
