package script

import (
	"errors"
	"fmt"
	"strings"
)

// ErrCostLimit is wrapped by the error Run returns when a script used up its
// cost budget (see WithCostLimit). The script did not fail: it was stopped.
var ErrCostLimit = errors.New("script exceeded its cost limit")

// ErrTimeout is wrapped by the error Run returns when a script ran past its
// deadline (see WithTimeout). The error also wraps context.DeadlineExceeded.
var ErrTimeout = errors.New("script exceeded its time limit")

// IsBudgetExceeded reports whether err means the script was stopped for
// using too much of its cost or time budget, rather than failing by itself.
func IsBudgetExceeded(err error) bool {
	return errors.Is(err, ErrCostLimit) || errors.Is(err, ErrTimeout)
}

// Issue is one problem found while compiling a script.
type Issue struct {
	// Line is 1-based.
	Line int `json:"line"`
	// Column is 1-based and counts Unicode code points, as editors do.
	Column int `json:"column"`
	// Message describes the problem, e.g. "Syntax error: mismatched input ...".
	Message string `json:"message"`
}

// String formats the issue as "line:column: message".
func (i Issue) String() string {
	return fmt.Sprintf("%d:%d: %s", i.Line, i.Column, i.Message)
}

// CompileError is returned by Compile, Program and Check for a script that
// does not parse, does not type-check, or cannot produce a result map.
type CompileError struct {
	Issues []Issue
}

// Error lists the issues one per line, each as "line:column: message".
func (e *CompileError) Error() string {
	lines := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		lines[i] = is.String()
	}
	return strings.Join(lines, "\n")
}

// RuntimeError is returned by Run when the script itself failed while
// evaluating, e.g. a missing map key or a division by zero.
type RuntimeError struct {
	// Line and Column locate the failing expression (1-based); both are 0
	// when CEL did not say which expression failed.
	Line, Column int
	// Message is CEL's description of the failure.
	Message string `json:"message"`
	// Err is the underlying CEL error.
	Err error
}

// Error formats the failure with its position when known.
func (e *RuntimeError) Error() string {
	if e.Line == 0 {
		return "runtime error: " + e.Message
	}
	return fmt.Sprintf("runtime error at %d:%d: %s", e.Line, e.Column, e.Message)
}

// Unwrap returns the underlying CEL error.
func (e *RuntimeError) Unwrap() error { return e.Err }

// ResultError is returned by Run when the script evaluated but its result
// does not have the documented shape.
type ResultError struct {
	// Key is the path of the offending entry, e.g. "status" or
	// `cache.set["abc"].ttl`; empty when the result as a whole is wrong.
	Key string
	// Message is the full explanation, naming the key.
	Message string `json:"message"`
}

// Error returns the message, e.g.
// `result.status must be an int in 2000-2999, 4000-4999 or 5000-5999, got "ok"`.
func (e *ResultError) Error() string { return e.Message }

// resultErrorf builds a ResultError for key whose message starts with
// "result.<key>".
func resultErrorf(key, format string, args ...any) *ResultError {
	name := "result"
	if key != "" {
		name += "." + key
	}
	return &ResultError{Key: key, Message: name + " " + fmt.Sprintf(format, args...)}
}
