package mockserver

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"

	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/onegini"
)

// apiFamily tells which back end's error shape a request expects, from
// its path alone: a panic or an oversized body is caught before routing.
func apiFamily(path string) string {
	if strings.Contains(path, "/custom-registration/") {
		return "onegini"
	}
	return "capture"
}

// writeFamilyError answers a failure that happened outside a back end in
// the shape of the API that was called.
func writeFamilyError(w http.ResponseWriter, r *http.Request, status int, description string) {
	if apiFamily(r.URL.Path) == "onegini" {
		code := onegini.CodeInternalServerError
		if status == http.StatusRequestEntityTooLarge {
			code = onegini.CodeInvalidRequest
		}
		onegini.WriteError(w, status, code, description)
		return
	}
	e := &capture.Error{Code: 500, Name: "unexpected_error", Description: description}
	if status == http.StatusRequestEntityTooLarge {
		e = &capture.Error{Code: 200, Name: "invalid_argument", Description: description, HTTPStatus: status}
	}
	capture.WriteError(w, e)
}

// recoverPanics turns a panic anywhere below into the API's 500 answer,
// so one bad request never takes the server down. The panic and its stack
// go to report (the inspector notes it).
func recoverPanics(next http.Handler, report func(r *http.Request, panicked any, stack []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil || p == http.ErrAbortHandler {
				if p != nil {
					panic(p)
				}
				return
			}
			if report != nil {
				report(r, p, debug.Stack())
			}
			writeFamilyError(w, r, http.StatusInternalServerError, fmt.Sprintf("internal error: %v", p))
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBodies refuses bodies over the workspace's limit with 413 in the
// API's shape, and caps the read of bodies of unknown length.
func (s *Server) limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.Workspace().Settings.MaxBodyBytes
		if r.ContentLength > limit {
			writeFamilyError(w, r, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("the request body is larger than %d bytes", limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}
