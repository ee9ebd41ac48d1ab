package onegini

import "net/http"

// Outcome is what a request's script did, for the inspector: the back end
// hands it to the function [WithOutcomeReport] names before the handler
// returns.
type Outcome struct {
	// IdP is the identity provider the request named, once it passed
	// the access checks.
	IdP string
	// Script is the slot that ran: "init", "complete" or "backchannel";
	// empty when the request was refused before any script ran.
	Script string
	// Status is the script's status, 0 when it returned none.
	Status int
	// Cost is the CEL cost the script used.
	Cost uint64
	// Err says what went wrong inside when the answer is an internal
	// server error; the client only sees the documented description.
	Err string
}

// WithOutcomeReport has the back end call report with the Outcome of
// every request it answers, once the answer is written and before the
// handler returns. o is the back end's own and only valid during the
// call. A report replaces a context value the server would otherwise add
// to every request, and the copy of the request that goes with it.
func WithOutcomeReport(report func(r *http.Request, o *Outcome)) Option {
	return func(b *Backend) { b.report = report }
}
