package faults

import (
	"net/url"
	"testing"

	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/workspace"
)

// registration is a register_native_traditional body like the seed's.
var registration = url.Values{
	"client_id": {"12345abcde12345abcde12345abcde12"}, "flow": {"standard"},
	"flow_version": {"20190618143040022299"}, "locale": {"en-US"}, "redirect_uri": {"http://localhost"},
	"response_type": {"token"}, "form": {"registrationForm"}, "emailAddress": {"johndoe@example.com"},
	"newPassword": {"password123"}, "newPasswordConfirm": {"password123"}, "firstName": {"John"},
	"lastName": {"Doe"}, "displayName": {"JohnDoe"},
}.Encode()

func benchmarkMatch(b *testing.B, rules []workspace.Fault) {
	e := NewEngine()
	if err := e.SetRules(rules); err != nil {
		b.Fatal(err)
	}
	r := newRequest("POST", "/oauth/register_native_traditional", formType, registration)
	body := []byte(registration)
	b.ReportAllocs()
	for b.Loop() {
		if d, _ := e.Match(r, capture.EndpointRegisterNativeTraditional, body); d != nil {
			b.Fatal("a rule fired")
		}
	}
}

func BenchmarkMatchNoRules(b *testing.B) { benchmarkMatch(b, nil) }

func BenchmarkMatchTenRulesNoCondition(b *testing.B) {
	rules := tenRulesElsewhere()
	for i := range rules {
		if rules[i].Endpoint == capture.EndpointRegisterNativeTraditional {
			rules[i].Endpoint = capture.EndpointToken
		}
	}
	benchmarkMatch(b, rules)
}

func BenchmarkMatchWithCondition(b *testing.B) {
	benchmarkMatch(b, []workspace.Fault{{ID: "fail-email", Endpoint: capture.EndpointRegisterNativeTraditional, Enabled: true,
		When: `request.form.emailAddress == "fail@example.com"`, Error: "capture.invalid_form_fields"}})
}
