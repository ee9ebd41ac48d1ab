package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// callKind is one kind of request of the soak's mixed traffic; the soak
// counts requests and unexpected answers per kind.
type callKind int

// The kinds of request the soak sends.
const (
	callRegister       callKind = iota // register_native_traditional, unique e-mail
	callSignIn                         // auth_native_traditional of a registered user
	callEntity                         // /entity with the signed-in user's token
	callAuth310                        // auth_native with a fresh identity: 310
	callMint                           // admin API: mint a social token
	callSocialAuth                     // social journey: auth_native, 310
	callSocialRegister                 // social journey: register_native
	callSocialSignIn                   // social journey: auth_native again, signed in
	callBackchannel                    // Onegini seed backchannel (ExampleId)
	callQRBackchannel                  // QrCodeIdp backchannel: a QR code
	callQRComplete                     // QrCodeIdp complete with that code
	callFlow                           // flow document download
	callWrongForm                      // registration with a form that does not exist
	callMissingFlow                    // registration without flow
	numCalls
)

// callNames name the kinds in the summary.
var callNames = [numCalls]string{
	"register", "sign_in", "entity", "auth_native_310", "mint_token", "social_auth_310",
	"social_register", "social_sign_in", "backchannel", "qr_backchannel", "qr_complete",
	"flow", "error_wrong_form", "error_missing_flow",
}

// maxAnswer bounds how much of an answer the soak reads.
const maxAnswer = 1 << 20

// errBudget ends a journey once the run's request budget is spent; it is
// not the server's fault.
var errBudget = errors.New("the request budget is spent")

// callStats counts one kind's requests and unexpected answers.
type callStats struct {
	requests atomic.Int64
	errors   atomic.Int64
	first    atomic.Pointer[string] // the first unexpected answer
}

// fail counts an unexpected answer and keeps the first one.
func (s *callStats) fail(err error) {
	s.errors.Add(1)
	msg := err.Error()
	s.first.CompareAndSwap(nil, &msg)
}

// soakRequest describes one request of the soak.
type soakRequest struct {
	method, path string
	body         string
	contentType  string
	user, pass   string // HTTP Basic credentials, when user is set
	bearer       string // a bearer token, when set
}

// expect is what a correct answer looks like: its HTTP status and
// fragments that its body contains.
type expect struct {
	status    int
	fragments []string
}

// wants is a 200 answer holding every fragment.
func wants(fragments ...string) expect {
	return expect{status: http.StatusOK, fragments: fragments}
}

// newRequest builds r against base.
func (r soakRequest) newRequest(ctx context.Context, base string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, base+r.path, strings.NewReader(r.body))
	if err != nil {
		return nil, err
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.user != "" {
		req.SetBasicAuth(r.user, r.pass)
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	return req, nil
}

// exchange sends req and checks the answer against want.
func exchange(client *http.Client, req *http.Request, want expect) ([]byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want.status {
		return body, fmt.Errorf("%s %s: status %d, want %d: %.300s", req.Method, req.URL.Path, resp.StatusCode, want.status, body)
	}
	for _, f := range want.fragments {
		if !strings.Contains(string(body), f) {
			return body, fmt.Errorf("%s %s: no %s in %.300s", req.Method, req.URL.Path, f, body)
		}
	}
	return body, nil
}

// stringField reads a top-level string member of a JSON answer.
func stringField(body []byte, name string) (string, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return "", fmt.Errorf("the answer is not a JSON object: %.300s", body)
	}
	var s string
	if json.Unmarshal(fields[name], &s) != nil || s == "" {
		return "", fmt.Errorf("the answer has no %q string: %.300s", name, body)
	}
	return s, nil
}
