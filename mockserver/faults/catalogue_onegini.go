package faults

import "net/http"

// oneginiSpecs lists the Token Server's documented custom-registration
// errors in the order of its documentation's tables. The descriptions are
// the documentation's, as the back end answers them.
func oneginiSpecs() []oneginiSpec {
	return []oneginiSpec{
		{status: http.StatusBadRequest, code: "invalid_client",
			description: "Client credentials used are not valid or client does not exist",
			endpoints:   endpoints(oneginiAll),
			about:       "Missing or wrong client credentials (HTTP Basic or client_id/client_secret), or an unknown client."},
		{status: http.StatusForbidden, code: "insufficient_permissions",
			description: "The API client does not have the required `User registration` scope",
			endpoints:   endpoints([]string{EndpointOneginiBackchannel}),
			about:       "The API client lacks the User Registration scope the backchannel needs."},
		{status: http.StatusForbidden, code: "idp_disabled",
			description: "The specified IdP is disabled.",
			endpoints:   endpoints(oneginiAll),
			about:       "The identity provider exists but is disabled."},
		{status: http.StatusNotFound, code: "invalid_idp_identifier",
			description: "The specified IdP does not exist.",
			endpoints:   endpoints(oneginiAll),
			about:       "No identity provider has the id in the path."},
		{status: http.StatusInternalServerError, code: "internal_server_error",
			description: "The server has encountered an internal server error.",
			endpoints:   endpoints(oneginiAll),
			about:       "The script failed, ran out of budget or returned a malformed result."},
		{status: http.StatusBadRequest, code: "invalid_scope",
			description: "The requested scope is invalid, unknown or malformed.",
			endpoints:   endpoints([]string{EndpointOneginiComplete}),
			about:       "Complete asked for a scope the app client does not have."},
		{status: http.StatusBadRequest, code: "invalid_profile",
			description: "The specified profile is invalid.",
			endpoints:   endpoints([]string{EndpointOneginiComplete}),
			about:       "The complete script succeeded without naming a valid user."},
	}
}
