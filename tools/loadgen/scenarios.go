package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Names of the scenarios.
const (
	scenarioBackchannel = "backchannel"
	scenarioRegister    = "register"
	scenarioAuthNative  = "auth_native"
	scenarioFlow        = "flow"
)

// defaultScenarios are measured by `loadgen load` unless -scenarios says
// otherwise.
const defaultScenarios = scenarioBackchannel + "," + scenarioRegister + "," + scenarioAuthNative

// captureClientID is the seed Capture client, which has login_client.
const captureClientID = "12345abcde12345abcde12345abcde12"

// target is a server that scenarios are prepared against.
type target struct {
	client *http.Client
	base   string // "http://127.0.0.1:PORT"
	conns  int
	nonce  string
	tokens int // social tokens to mint for auth_native
}

// newScenario prepares the named scenario against t (auth_native mints
// its social tokens first).
func newScenario(ctx context.Context, name string, t target) (*scenario, error) {
	switch name {
	case scenarioBackchannel:
		return backchannelScenario(), nil
	case scenarioRegister:
		return registerScenario(t.nonce), nil
	case scenarioAuthNative:
		return authNativeScenario(ctx, t)
	case scenarioFlow:
		return flowScenario(), nil
	}
	return nil, fmt.Errorf("unknown scenario %q (known: %s,%s)", name, defaultScenarios, scenarioFlow)
}

// backchannelScenario is the Onegini seed: the ExampleId backchannel
// script through an API client with HTTP Basic credentials.
func backchannelScenario() *scenario {
	body := []byte(`{"data":"{\"custom_key\":\"custom_data\"}"}`)
	basic := base64.StdEncoding.EncodeToString([]byte("example-api-client:example-api-secret"))
	return &scenario{
		name: scenarioBackchannel, method: http.MethodPost,
		path:   "/oauth/api/v3/custom-registration/ExampleId/backchannel",
		header: http.Header{"Authorization": {"Basic " + basic}, "Content-Type": {"application/json"}},
		body:   func(int, int64) []byte { return body },
		status: http.StatusOK, expect: []byte(`"status":2000`),
	}
}

// registerScenario is the Capture seed traditional registration with a
// unique e-mail address and display name in every request (both are
// unique in the default form).
func registerScenario(nonce string) *scenario {
	base := url.Values{
		"client_id": {captureClientID}, "flow": {"standard"}, "flow_version": {"20190618143040022299"},
		"locale": {"en-US"}, "redirect_uri": {"http://localhost"}, "response_type": {"token"},
		"form": {"registrationForm"}, "newPassword": {"password123"}, "newPasswordConfirm": {"password123"},
		"lastName": {"Doe"}, "firstName": {"John"}, "birthdate[dateselect_year]": {"1930"},
		"birthdate[dateselect_month]": {"11"}, "birthdate[dateselect_day]": {"3"},
	}.Encode()
	return &scenario{
		name: scenarioRegister, method: http.MethodPost, path: "/oauth/register_native_traditional",
		header: formHeader(),
		body: func(_ int, seq int64) []byte {
			u := unique(nonce, seq)
			return []byte(base + "&emailAddress=lg" + u + "%40example.com&displayName=LG" + u)
		},
		status: http.StatusOK, expect: []byte(`"stat":"ok"`),
	}
}

// authNativeScenario is a social sign-in with a token whose identity has
// no account yet: Capture's normal first answer, 310 record_not_found.
// Worker w only uses tokens w, w+conns, w+2·conns, …, so no two requests
// in flight share a token (each call writes the token's state).
func authNativeScenario(ctx context.Context, t target) (*scenario, error) {
	tokens, err := mintTokens(ctx, t)
	if err != nil {
		return nil, err
	}
	base := url.Values{
		"client_id": {captureClientID}, "flow": {"standard"}, "flow_version": {"67890def-6789-defg-6789-67890defgh67"},
		"locale": {"en-US"}, "redirect_uri": {"http://localhost"},
	}.Encode() + "&token="
	perWorker := int64(len(tokens) / t.conns)
	return &scenario{
		name: scenarioAuthNative, method: http.MethodPost, path: "/oauth/auth_native",
		header: formHeader(),
		body: func(w int, seq int64) []byte {
			return []byte(base + tokens[(w%t.conns)+t.conns*int(seq%perWorker)])
		},
		status: http.StatusOK, expect: []byte(`"code":310`),
	}, nil
}

// flowScenario downloads the flow document: a cheap read-only call, used
// to fill the inspector.
func flowScenario() *scenario {
	return &scenario{
		name: scenarioFlow, method: http.MethodGet,
		path:   "/widget_data/flows/example-app/standard/20190618143040022299/en-US.json",
		status: http.StatusOK, expect: []byte("{"),
	}
}

func formHeader() http.Header {
	return http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
}

// mintTokens mints t.tokens social tokens (at least one per worker)
// through the admin API, t.conns at a time.
func mintTokens(ctx context.Context, t target) ([]string, error) {
	n := max(t.tokens, t.conns)
	n -= n % t.conns
	tokens := make([]string, n)
	errs := make([]error, t.conns)
	var wg sync.WaitGroup
	for w := range t.conns {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += t.conns {
				tokens[i], errs[w] = mintToken(ctx, t, i)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("minting social tokens: %w", err)
		}
	}
	return tokens, nil
}

// mintToken asks the admin API for the i-th social token of this run.
func mintToken(ctx context.Context, t target, i int) (string, error) {
	id := unique(t.nonce, int64(i))
	profile, _ := json.Marshal(map[string]string{"provider": "google", "identifier": "id-" + id,
		"email": "sn" + id + "@example.com", "firstName": "A", "lastName": "B", "displayName": "AB"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/__admin/capture/social-tokens", bytes.NewReader(profile))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	var out struct {
		Token string `json:"token"`
	}
	if err := doJSON(t.client, req, &out); err != nil {
		return "", err
	}
	if strings.TrimSpace(out.Token) == "" {
		return "", fmt.Errorf("the admin API answered no token")
	}
	return out.Token, nil
}

// doJSON sends req and decodes a 2xx JSON answer into v.
func doJSON(client *http.Client, req *http.Request, v any) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s answered %s", req.Method, req.URL.Path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
