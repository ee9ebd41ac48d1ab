package faults

import "regsandbox/mockserver/onegini"

// oneginiEndpoints says where an Onegini error can happen when that is
// narrower than every custom-registration endpoint.
var oneginiEndpoints = map[string][]string{
	onegini.CodeInsufficientPermissions: {EndpointOneginiBackchannel},
	onegini.CodeInvalidScope:            {EndpointOneginiComplete},
	onegini.CodeInvalidProfile:          {EndpointOneginiComplete},
	onegini.CodeInvalidRequest:          {EndpointOneginiInit, EndpointOneginiComplete},
}

// oneginiEntries takes the Onegini errors from the back end's own
// catalogue, so the gallery and a fault answer with exactly the bodies
// the back end writes.
func oneginiEntries() []Entry {
	var out []Entry
	for _, c := range onegini.Catalogue() {
		where, ok := oneginiEndpoints[c.Code]
		if !ok {
			where = oneginiAll
		}
		out = append(out, Entry{ID: c.ID, Backend: BackendOnegini, Code: c.Code, Name: c.Code,
			Status: c.Status, Description: c.Description, Endpoints: endpoints(where), Body: c.Body})
	}
	return out
}
