package faults

import (
	"fmt"
	"strings"

	"regsandbox/mockserver/workspace"
)

// issue is one problem found while compiling a condition.
type issue struct {
	// line and column are 1-based; column counts code points, as editors do.
	line, column int
	message      string
}

// RuleError is a problem with one fault rule, as [Engine.SetRules] and
// [Engine.Check] report it.
type RuleError struct {
	// Index is the rule's position in the list given to SetRules (0 for
	// Check).
	Index int
	// ID and Name identify the rule.
	ID, Name string
	// Field is the JSON name of the offending field: "when", "error",
	// "endpoint", ...
	Field string
	// Line and Column locate the problem in the condition (1-based); both
	// are 0 for problems outside it.
	Line, Column int
	Message      string
}

// Error reads as `fault rule "Fail next sign-up" (#2): when 1:27: message`.
func (e *RuleError) Error() string {
	var b strings.Builder
	b.WriteString("fault rule ")
	switch {
	case e.Name != "":
		fmt.Fprintf(&b, "%q", e.Name)
	case e.ID != "":
		fmt.Fprintf(&b, "%q", e.ID)
	default:
		fmt.Fprintf(&b, "#%d", e.Index+1)
	}
	if e.Name != "" && e.ID != "" {
		fmt.Fprintf(&b, " (id %s)", e.ID)
	}
	b.WriteString(": ")
	b.WriteString(e.Field)
	if e.Line > 0 {
		fmt.Fprintf(&b, " %d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// problem is a RuleError before it knows which rule it is about.
type problem struct {
	field        string
	line, column int
	message      string
}

// checkResponse verifies what a rule does, without its condition: the
// parts [Preview] needs as much as [Engine.SetRules].
func checkResponse(f workspace.Fault) []problem {
	var ps []problem
	add := func(field, format string, args ...any) {
		ps = append(ps, problem{field: field, message: fmt.Sprintf(format, args...)})
	}
	checkTarget(f, add)
	checkNumbers(f, add)
	checkOutcome(f, add)
	return ps
}

// checkTarget verifies the endpoint and the error id, and that they belong
// to the same back end: a Capture error on an Onegini endpoint is a mistake
// an app could never meet.
func checkTarget(f workspace.Fault, add func(field, format string, args ...any)) {
	if f.Endpoint != AnyEndpoint && !knownEndpoint(f.Endpoint) {
		add("endpoint", "unknown endpoint %q (use %q or one of %s)", f.Endpoint, AnyEndpoint, strings.Join(Endpoints(), ", "))
	}
	if f.Error == "" {
		return
	}
	e := lookup(f.Error)
	if e == nil {
		add("error", "unknown error %q (GET /__admin/errors lists them)", f.Error)
		return
	}
	if b := backendOf(f.Endpoint); b != "" && b != e.Backend {
		add("error", "%s is a %s error and cannot be answered by %s", f.Error, e.Backend, f.Endpoint)
	}
}

// checkNumbers verifies the numeric settings.
func checkNumbers(f workspace.Fault, add func(field, format string, args ...any)) {
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		add("status", "%d is not an HTTP status", f.Status)
	}
	if f.DelayMS < 0 || f.JitterMS < 0 {
		add("delay_ms", "delay_ms and jitter_ms cannot be negative")
	}
	if f.Times < 0 {
		add("times", "times cannot be negative")
	}
	if f.Probability < 0 || f.Probability > 1 {
		add("probability", "%v is not between 0 and 1", f.Probability)
	}
}

// checkOutcome verifies that the rule does one thing, and something.
func checkOutcome(f workspace.Fault, add func(field, format string, args ...any)) {
	var outcomes []string
	for _, o := range []struct {
		set  bool
		name string
	}{
		{f.Drop, "drop"}, {f.Hang, "hang"}, {f.Malformed, "malformed"}, {f.Error != "", "error"}, {f.Body != "", "body"},
	} {
		if o.set {
			outcomes = append(outcomes, o.name)
		}
	}
	delays := f.DelayMS > 0 || f.JitterMS > 0
	switch {
	case len(outcomes) > 1:
		add(outcomes[1], "%s cannot be combined (a rule answers one way)", strings.Join(outcomes, " and "))
	case len(outcomes) == 0 && f.Status == 0 && !delays:
		add("error", "the rule does nothing: give it an error, a status, a body, a delay, drop, malformed or hang")
	}
	answers := f.Error != "" || f.Body != "" || f.Malformed || f.Status != 0
	if f.Status != 0 && (f.Drop || f.Hang) {
		add("status", "a rule that drops or hangs sends no status")
	}
	if len(f.Headers) > 0 && !answers {
		add("headers", "headers need an answer to go with (an error, a status, a body or malformed)")
	}
}
