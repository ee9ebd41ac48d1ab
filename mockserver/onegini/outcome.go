package onegini

import "context"

// Outcome is what a request's script did, for the inspector. The server
// puts an empty one in the request context with [WithOutcome] before the
// back end handles the request, and reads it afterwards.
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

type outcomeKey struct{}

// WithOutcome returns a context carrying a new, empty Outcome for the back
// end to fill, and that Outcome.
func WithOutcome(ctx context.Context) (context.Context, *Outcome) {
	o := new(Outcome)
	return context.WithValue(ctx, outcomeKey{}, o), o
}

// OutcomeFrom returns the Outcome [WithOutcome] put in ctx, or nil.
func OutcomeFrom(ctx context.Context) *Outcome {
	o, _ := ctx.Value(outcomeKey{}).(*Outcome)
	return o
}
