package faults

import (
	"slices"
	"strings"

	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/onegini"
)

// AnyEndpoint is the endpoint of a rule that applies to every endpoint.
const AnyEndpoint = "*"

// Onegini endpoint ids, as the contract names them: the back end's own.
const (
	EndpointOneginiBackchannel = onegini.EndpointBackchannel
	EndpointOneginiInit        = onegini.EndpointInit
	EndpointOneginiComplete    = onegini.EndpointComplete
)

// Groups of endpoints the catalogue entries share.
var (
	// captureOAuth are the registration and sign-in calls of the SDKs.
	captureOAuth = []string{
		capture.EndpointRegisterNativeTraditional, capture.EndpointRegisterNative,
		capture.EndpointAuthNative, capture.EndpointAuthNativeTraditional,
	}
	captureRegister = []string{capture.EndpointRegisterNativeTraditional, capture.EndpointRegisterNative}
	captureAPI      = slices.Concat(captureOAuth, []string{capture.EndpointToken, capture.EndpointEntity})
	captureAll      = slices.Concat(captureAPI, []string{capture.EndpointFlow})
	oneginiAll      = []string{EndpointOneginiBackchannel, EndpointOneginiInit, EndpointOneginiComplete}
)

// Endpoints returns the endpoint ids a rule can target, besides
// [AnyEndpoint].
func Endpoints() []string { return slices.Concat(captureAll, oneginiAll) }

// knownEndpoint reports whether id names an endpoint of either back end.
func knownEndpoint(id string) bool {
	return slices.Contains(captureAll, id) || slices.Contains(oneginiAll, id)
}

// backendOf returns the back end an endpoint id belongs to, or "".
func backendOf(endpoint string) string {
	switch {
	case strings.HasPrefix(endpoint, BackendCapture+"."):
		return BackendCapture
	case strings.HasPrefix(endpoint, BackendOnegini+"."):
		return BackendOnegini
	}
	return ""
}

// endpoints returns ids as a new slice, so entries never share one.
func endpoints(ids ...[]string) []string { return slices.Concat(ids...) }
