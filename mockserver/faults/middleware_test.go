package faults

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/workspace"
)

const backchannelPath = "/oauth/api/v3/custom-registration/ExampleId/backchannel"

func TestTimesOneFailsOnceThenPasses(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, []workspace.Fault{{ID: "once", Endpoint: EndpointOneginiBackchannel, Enabled: true,
		Error: "onegini.internal_server_error", Times: 1}})
	first := s.postJSON(t, backchannelPath, `{"data":"x"}`)
	assertEqual(t, first.status, http.StatusInternalServerError, "first status")
	assertEqual(t, string(first.body),
		`{"error":"internal_server_error","error_description":"The server has encountered an internal server error."}`, "first body")
	assertEqual(t, first.header.Get("Content-Type"), "application/json;charset=UTF-8", "Content-Type")
	assertEqual(t, first.header.Get("Cache-Control"), "no-store", "Cache-Control")
	assertEqual(t, first.header.Get("Pragma"), "no-cache", "Pragma")

	second := s.postJSON(t, backchannelPath, `{"data":"x"}`)
	assertEqual(t, second.status, http.StatusOK, "second status")
	assertEqual(t, decodeObject(t, second.body)["echo"], any(`{"data":"x"}`), "the back end's answer")
	assertEqual(t, s.engine.Disarmed("once"), true, "disarmed")
	assertEqual(t, slices.Equal(s.firedRules(), []string{"once"}), true, "onFire calls")
}

func TestDelay(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, []workspace.Fault{{ID: "slow", Endpoint: capture.EndpointToken, Enabled: true, DelayMS: 400}})
	start := time.Now()
	a := s.postForm(t, "/oauth/token", url.Values{"grant_type": {"refresh_token"}})
	if elapsed := time.Since(start); elapsed < 400*time.Millisecond {
		t.Errorf("answered after %v, want at least 400ms", elapsed)
	}
	assertEqual(t, a.status, http.StatusOK, "the back end answers after the delay")
	assertEqual(t, decodeObject(t, a.body)["echo"], any("grant_type=refresh_token"), "body")
}

func TestDrop(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, []workspace.Fault{{ID: "drop", Endpoint: capture.EndpointRegisterNative, Enabled: true, Drop: true}})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/oauth/register_native", strings.NewReader("form=x"))
	req.Header.Set("Content-Type", formType)
	_, err := do(t, s.Client(), req)
	if err == nil {
		t.Fatal("the request got an answer")
	}
	assertEqual(t, len(s.firedRules()) >= 1, true, "onFire was told")
}

func TestHangEndsWhenTheClientGivesUp(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, []workspace.Fault{{ID: "hang", Endpoint: EndpointOneginiComplete, Enabled: true, Hang: true}})
	client := &http.Client{Timeout: 200 * time.Millisecond}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/oauth/custom-registration/ExampleId/complete", strings.NewReader("data=x"))
	req.Header.Set("Content-Type", formType)
	start := time.Now()
	_, err := do(t, client, req)
	if err == nil {
		t.Fatal("the request got an answer")
	}
	if elapsed := time.Since(start); elapsed < 200*time.Millisecond {
		t.Errorf("gave up after %v, before the client's timeout", elapsed)
	}
	waitIdle(t, s)
}

func TestCloseReleasesHungRequests(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, []workspace.Fault{{ID: "hang", Endpoint: capture.EndpointEntity, Enabled: true, Hang: true}})
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/entity", nil)
		_, err := do(t, s.Client(), req)
		errc <- err
	}()
	for len(s.firedRules()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	s.engine.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Error("a released request got an answer")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hung request")
	}
	waitIdle(t, s)
}

// waitIdle fails the test if a handler is still running a while after
// its client left.
func waitIdle(t *testing.T, s *sandbox) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.active.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d handlers still running", s.active.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConditionOnForm(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, []workspace.Fault{{ID: "fail-email", Endpoint: capture.EndpointRegisterNativeTraditional, Enabled: true,
		When: `request.form.emailAddress == "fail@example.com"`, Error: "capture.invalid_form_fields"}})
	tests := []struct {
		name   string
		form   url.Values
		failed bool
	}{
		{"matching address", url.Values{"emailAddress": {"fail@example.com"}, "locale": {"en-US"}}, true},
		{"other address", url.Values{"emailAddress": {"ok@example.com"}}, false},
		{"no address", url.Values{"firstName": {"Jo"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := s.postForm(t, "/oauth/register_native_traditional", tc.form)
			assertEqual(t, a.status, http.StatusOK, "status")
			m := decodeObject(t, a.body)
			assertEqual(t, m["stat"] == "error", tc.failed, "failed")
			if !tc.failed {
				assertEqual(t, m["echo"], any(tc.form.Encode()), "the back end read the whole body")
			}
		})
	}
}

func TestLocalizedError(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, []workspace.Fault{{ID: "fail", Endpoint: capture.EndpointRegisterNativeTraditional, Enabled: true,
		Error: "capture.invalid_form_fields"}})
	a := s.postForm(t, "/oauth/register_native_traditional", url.Values{"locale": {"fr-FR"}})
	assertContains(t, string(a.body), "Ce pseudonyme est déjà pris.", "body")
}

func TestConditionOnJSON(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, []workspace.Fault{{ID: "json", Endpoint: EndpointOneginiBackchannel, Enabled: true,
		When: `request.json.data.contains("fail")`, Error: "onegini.idp_disabled"}})
	failed := s.postJSON(t, backchannelPath, `{"data":"please fail"}`)
	assertEqual(t, failed.status, http.StatusForbidden, "matching status")
	assertEqual(t, decodeObject(t, failed.body)["error"], any("idp_disabled"), "error")
	passed := s.postJSON(t, backchannelPath, `{"data":"fine"}`)
	assertEqual(t, passed.status, http.StatusOK, "other status")
	assertEqual(t, decodeObject(t, passed.body)["echo"], any(`{"data":"fine"}`), "the back end read the whole body")
}

func TestConcurrentRequestsShareOneHit(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, []workspace.Fault{{ID: "once", Endpoint: EndpointOneginiBackchannel, Enabled: true,
		Error: "onegini.internal_server_error", Times: 1}})
	var wg sync.WaitGroup
	statuses := make(chan int, 50)
	for range 50 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, s.URL+backchannelPath, strings.NewReader(`{}`))
			a, err := do(t, s.Client(), req)
			if err != nil {
				t.Error(err)
				return
			}
			statuses <- a.status
		})
	}
	wg.Wait()
	close(statuses)
	failed := 0
	for st := range statuses {
		if st == http.StatusInternalServerError {
			failed++
		}
	}
	assertEqual(t, failed, 1, "failed requests")
}

func TestPreviewEqualsLiveAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule workspace.Fault
		send func(t *testing.T, s *sandbox) answer
	}{
		{"capture error", workspace.Fault{Endpoint: capture.EndpointRegisterNativeTraditional, Error: "capture.invalid_form_fields"},
			func(t *testing.T, s *sandbox) answer {
				return s.postForm(t, "/oauth/register_native_traditional", url.Values{"form": {"registrationForm"}})
			}},
		{"capture error on token", workspace.Fault{Endpoint: capture.EndpointToken, Error: "capture.redirect_uri_mismatch"},
			func(t *testing.T, s *sandbox) answer { return s.postForm(t, "/oauth/token", nil) }},
		{"error with status and headers", workspace.Fault{Endpoint: capture.EndpointAuthNative, Error: "capture.record_not_found",
			Status: 502, Headers: map[string]string{"x-sandbox": "fault", "Cache-Control": "no-cache"}},
			func(t *testing.T, s *sandbox) answer { return s.postForm(t, "/oauth/auth_native", nil) }},
		{"onegini error", workspace.Fault{Endpoint: EndpointOneginiBackchannel, Error: "onegini.insufficient_permissions"},
			func(t *testing.T, s *sandbox) answer { return s.postJSON(t, backchannelPath, `{}`) }},
		{"custom json", workspace.Fault{Endpoint: EndpointOneginiInit, Status: 503, Body: `{"maintenance":true}`},
			func(t *testing.T, s *sandbox) answer {
				return s.postJSON(t, "/oauth/custom-registration/ExampleId/init", `{}`)
			}},
		{"custom text", workspace.Fault{Endpoint: capture.EndpointEntity, Status: 502, Body: "Bad Gateway"},
			func(t *testing.T, s *sandbox) answer { return s.postForm(t, "/entity", nil) }},
		{"status only", workspace.Fault{Endpoint: capture.EndpointEntity, Status: 429, Headers: map[string]string{"Retry-After": "30"}},
			func(t *testing.T, s *sandbox) answer { return s.postForm(t, "/entity", nil) }},
		{"malformed capture", workspace.Fault{Endpoint: capture.EndpointRegisterNative, Malformed: true},
			func(t *testing.T, s *sandbox) answer { return s.postForm(t, "/oauth/register_native", nil) }},
		{"malformed onegini", workspace.Fault{Endpoint: EndpointOneginiBackchannel, Malformed: true},
			func(t *testing.T, s *sandbox) answer { return s.postJSON(t, backchannelPath, `{}`) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.rule.ID, tc.rule.Enabled = "r", true
			status, header, body, err := Preview(tc.rule, "")
			mustNoError(t, err, "Preview")
			live := tc.send(t, newSandbox(t, []workspace.Fault{tc.rule}))
			assertEqual(t, live.status, status, "status")
			for k := range header {
				assertEqual(t, live.header.Get(k), header.Get(k), k)
			}
			assertEqual(t, string(withoutRequestID(t, live.body)), string(withoutRequestID(t, body)), "body")
		})
	}
}

func TestPreviewOfRulesThatDoNotAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule workspace.Fault
		want error
	}{
		{workspace.Fault{Endpoint: "*", Drop: true}, ErrDrops},
		{workspace.Fault{Endpoint: "*", Hang: true, DelayMS: 10}, ErrHangs},
		{workspace.Fault{Endpoint: "*", DelayMS: 10}, ErrPassesThrough},
	}
	for _, tc := range tests {
		if _, _, _, err := Preview(tc.rule, capture.EndpointEntity); !errors.Is(err, tc.want) {
			t.Errorf("Preview(%+v) = %v, want %v", tc.rule, err, tc.want)
		}
	}
	_, _, _, err := Preview(workspace.Fault{Endpoint: "*", Error: "capture.nope"}, "")
	var re *RuleError
	assertEqual(t, errors.As(err, &re), true, "invalid rule gives a *RuleError")
}

func TestMalformedBodiesAreNotJSON(t *testing.T) {
	t.Parallel()
	for _, ep := range Endpoints() {
		status, header, body, err := Preview(workspace.Fault{Endpoint: ep, Malformed: true}, "")
		mustNoError(t, err, ep)
		assertEqual(t, status, http.StatusOK, ep+" status")
		assertContains(t, header.Get("Content-Type"), "application/json", ep+" Content-Type")
		if len(body) < 2 || body[0] != '{' || jsonValid(body) {
			t.Errorf("%s: body %q is not a cut-off JSON document", ep, body)
		}
	}
}

func TestMiddlewareSkipsBodyWhenNoRuleNeedsIt(t *testing.T) {
	t.Parallel()
	e := NewEngine()
	mustNoError(t, e.SetRules([]workspace.Fault{{ID: "r", Endpoint: capture.EndpointEntity, Enabled: true, Drop: true,
		When: `request.method == "DELETE"`}}), "SetRules")
	body := &countingReader{r: strings.NewReader("x=1")}
	r, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "/entity", body)
	e.Middleware(func(*http.Request) string { return capture.EndpointEntity }, nil)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).
		ServeHTTP(nil, r)
	assertEqual(t, body.n, 0, "bytes read")
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
