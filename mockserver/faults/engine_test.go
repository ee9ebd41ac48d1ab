package faults

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/workspace"
)

const formType = "application/x-www-form-urlencoded"

func TestSetRulesRefusesInvalidRules(t *testing.T) {
	t.Parallel()
	valid := workspace.Fault{ID: "ok", Endpoint: "*", Error: "onegini.idp_disabled", Enabled: true}
	tests := []struct {
		name   string
		rule   workspace.Fault
		field  string
		line   int
		column int
		want   string
	}{
		{"syntax error", workspace.Fault{ID: "r1", Name: "Bad condition", Endpoint: capture.EndpointRegisterNative,
			Error: "capture.invalid_form_fields", When: `request.form.emailAddress ==`},
			"when", 1, 29, `fault rule "Bad condition" (id r1): when 1:29: Syntax error`},
		{"second line", workspace.Fault{ID: "r1", Endpoint: "*", Drop: true, When: "request.method == \"POST\" &&\n  request.path =="},
			"when", 2, 18, `fault rule "r1": when 2:18:`},
		{"not a bool", workspace.Fault{ID: "r1", Endpoint: "*", Drop: true, When: "\n  size(request.body)"},
			"when", 2, 3, "must be true or false, but it is a int"},
		{"unknown request field", workspace.Fault{ID: "r1", Endpoint: "*", Drop: true, When: `request.method == "POST" && request.methd == "GET"`},
			"when", 1, 36, `request has no field "methd"`},
		{"unknown error", workspace.Fault{ID: "r1", Endpoint: "*", Error: "capture.no_such_error"},
			"error", 0, 0, `unknown error "capture.no_such_error"`},
		{"error of the other back end", workspace.Fault{ID: "r1", Endpoint: EndpointOneginiInit, Error: "capture.invalid_form_fields"},
			"error", 0, 0, "is a capture error"},
		{"unknown endpoint", workspace.Fault{ID: "r1", Endpoint: "capture.register", Drop: true},
			"endpoint", 0, 0, `unknown endpoint "capture.register"`},
		{"does nothing", workspace.Fault{ID: "r1", Endpoint: "*", When: `request.method == "POST"`},
			"error", 0, 0, "the rule does nothing"},
		{"two outcomes", workspace.Fault{ID: "r1", Endpoint: "*", Drop: true, Hang: true},
			"hang", 0, 0, "drop and hang cannot be combined"},
		{"headers alone", workspace.Fault{ID: "r1", Endpoint: "*", DelayMS: 10, Headers: map[string]string{"X": "y"}},
			"headers", 0, 0, "headers need an answer"},
		{"probability", workspace.Fault{ID: "r1", Endpoint: "*", Drop: true, Probability: 1.5},
			"probability", 0, 0, "not between 0 and 1"},
		{"status", workspace.Fault{ID: "r1", Endpoint: "*", Status: 42},
			"status", 0, 0, "not an HTTP status"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := NewEngine()
			mustNoError(t, e.SetRules([]workspace.Fault{valid}), "valid rules")
			// The rule is refused even when disabled, and takes the
			// valid rule down with it.
			err := e.SetRules([]workspace.Fault{valid, tc.rule})
			if err == nil {
				t.Fatal("SetRules accepted the rule")
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *RuleError", err)
			}
			assertEqual(t, re.Index, 1, "index")
			assertEqual(t, re.Field, tc.field, "field")
			assertEqual(t, re.Line, tc.line, "line")
			assertEqual(t, re.Column, tc.column, "column")
			assertContains(t, err.Error(), tc.want, "error")
			// The previous rules stay in force.
			if d, _ := e.Match(newRequest("GET", "/", "", ""), EndpointOneginiInit, nil); d == nil || d.Rule.ID != "ok" {
				t.Errorf("a refused set replaced the rules in force")
			}
			assertEqual(t, e.Check(tc.rule) != nil, true, "Check refuses it")
		})
	}
}

func TestSetRulesRefusesDuplicateIDs(t *testing.T) {
	t.Parallel()
	r := workspace.Fault{ID: "same", Endpoint: "*", Drop: true, Enabled: true}
	err := NewEngine().SetRules([]workspace.Fault{r, r})
	assertContains(t, errorString(err), "same id", "error")
}

func TestCheckAcceptsValidRules(t *testing.T) {
	t.Parallel()
	e := NewEngine()
	for _, r := range []workspace.Fault{
		{Endpoint: "*", Error: "capture.invalid_form_fields"},
		{Endpoint: capture.EndpointToken, Error: "capture.redirect_uri_mismatch", Status: 401, Headers: map[string]string{"X-Why": "test"}},
		{Endpoint: EndpointOneginiBackchannel, Status: 503, Body: "down for maintenance"},
		{Endpoint: EndpointOneginiComplete, Malformed: true, DelayMS: 100, JitterMS: 50},
		{Endpoint: capture.EndpointEntity, DelayMS: 2000},
		{Endpoint: "*", Hang: true, When: `request.headers["user-agent"].startsWith("okhttp")`},
		{Endpoint: "*", Drop: true, When: `request.form.?locale.orValue("en-US") == "fr-FR"`, Probability: 0.5, Seed: 7},
		{Endpoint: "*", Drop: true, When: `request.json.data.contains("x") || request.query.flow == "a"`},
	} {
		if err := e.Check(r); err != nil {
			t.Errorf("Check(%+v) = %v", r, err)
		}
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	rules := []workspace.Fault{
		{ID: "disabled", Endpoint: "*", Drop: true},
		{ID: "fail-email", Endpoint: capture.EndpointRegisterNativeTraditional, Enabled: true,
			When: `request.form.emailAddress == "fail@example.com"`, Error: "capture.invalid_form_fields"},
		{ID: "json", Endpoint: EndpointOneginiBackchannel, Enabled: true,
			When: `request.json.data == "fail" && request.json.n > 1`, Error: "onegini.internal_server_error"},
		{ID: "header", Endpoint: "*", Enabled: true,
			When: `request.headers["x-fail"] == "yes" && request.method == "GET"`, Status: 503},
		{ID: "token", Endpoint: capture.EndpointToken, Enabled: true, Error: "capture.authorization_code_expired"},
	}
	e := NewEngine()
	mustNoError(t, e.SetRules(rules), "SetRules")
	tests := []struct {
		name                      string
		method, contentType, body string
		header                    string // an X-Fail value
		endpoint                  string
		want                      string
	}{
		{"form matches", "POST", formType, "emailAddress=fail%40example.com&x=1", "", capture.EndpointRegisterNativeTraditional, "fail-email"},
		{"form differs", "POST", formType, "emailAddress=ok%40example.com", "", capture.EndpointRegisterNativeTraditional, ""},
		{"form field absent", "POST", formType, "firstName=Jo", "", capture.EndpointRegisterNativeTraditional, ""},
		{"other endpoint", "POST", formType, "emailAddress=fail%40example.com", "", capture.EndpointRegisterNative, ""},
		{"json matches", "POST", "application/json", `{"data":"fail","n":2}`, "", EndpointOneginiBackchannel, "json"},
		{"json number as double", "POST", "application/json", `{"data":"fail","n":1.5}`, "", EndpointOneginiBackchannel, "json"},
		{"json differs", "POST", "application/json", `{"data":"ok","n":2}`, "", EndpointOneginiBackchannel, ""},
		{"not json", "POST", formType, `data=fail`, "", EndpointOneginiBackchannel, ""},
		{"header", "GET", "", "", "yes", capture.EndpointEntity, "header"},
		{"header differs", "GET", "", "", "no", capture.EndpointEntity, ""},
		{"no condition", "POST", formType, "", "", capture.EndpointToken, "token"},
		{"no endpoint", "GET", "", "", "yes", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRequest(tc.method, "/x", tc.contentType, tc.body)
			if tc.header != "" {
				r.Header.Set("X-Fail", tc.header)
			}
			d, err := e.Match(r, tc.endpoint, []byte(tc.body))
			mustNoError(t, err, "Match")
			got := ""
			if d != nil {
				got = d.Rule.ID
			}
			assertEqual(t, got, tc.want, "rule")
		})
	}
}

func TestMatchReportsFailingConditions(t *testing.T) {
	t.Parallel()
	e := NewEngine()
	mustNoError(t, e.SetRules([]workspace.Fault{
		{ID: "broken", Endpoint: "*", Enabled: true, When: `request.json.n / 0 == 1`, Drop: true},
		{ID: "next", Endpoint: "*", Enabled: true, Drop: true},
	}), "SetRules")
	body := `{"n": 1}`
	d, err := e.Match(newRequest("POST", "/", "application/json", body), capture.EndpointEntity, []byte(body))
	if d == nil || d.Rule.ID != "next" {
		t.Fatalf("decision = %+v, want the next rule", d)
	}
	assertContains(t, errorString(err), `fault rule "broken": when: division by zero`, "error")
}

func TestTimesDisarms(t *testing.T) {
	t.Parallel()
	rule := workspace.Fault{ID: "twice", Endpoint: "*", Enabled: true, Drop: true, Times: 2}
	other := workspace.Fault{ID: "other", Endpoint: capture.EndpointFlow, Enabled: true, Drop: true}
	e := NewEngine()
	mustNoError(t, e.SetRules([]workspace.Fault{rule}), "SetRules")
	match := func() bool {
		d, _ := e.Match(newRequest("GET", "/", "", ""), capture.EndpointEntity, nil)
		return d != nil
	}
	assertEqual(t, e.Remaining("twice"), 2, "remaining before")
	got := []bool{match(), match(), match()}
	assertEqual(t, slices.Equal(got, []bool{true, true, false}), true, "fired twice, then not")
	assertEqual(t, e.Remaining("twice"), 0, "remaining after")
	assertEqual(t, e.Disarmed("twice"), true, "disarmed")

	// Saving another rule keeps the count; editing this one re-arms it.
	mustNoError(t, e.SetRules([]workspace.Fault{rule, other}), "SetRules")
	assertEqual(t, e.Disarmed("twice"), true, "disarmed after another rule was saved")
	rule.Name = "edited"
	mustNoError(t, e.SetRules([]workspace.Fault{rule, other}), "SetRules")
	assertEqual(t, e.Remaining("twice"), 2, "remaining after an edit")
	match()
	assertEqual(t, e.Rearm("twice"), true, "Rearm")
	assertEqual(t, e.Remaining("twice"), 2, "remaining after Rearm")

	assertEqual(t, e.Remaining("other"), -1, "unlimited")
	assertEqual(t, e.Disarmed("other"), false, "unlimited disarmed")
	assertEqual(t, e.Remaining("nope"), 0, "unknown")
	assertEqual(t, e.Rearm("nope"), false, "Rearm unknown")
}

func TestTimesUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := NewEngine()
	mustNoError(t, e.SetRules([]workspace.Fault{{ID: "once", Endpoint: "*", Enabled: true, Drop: true, Times: 1}}), "SetRules")
	var wg sync.WaitGroup
	var mu sync.Mutex
	fired := 0
	start := make(chan struct{})
	for range 500 {
		wg.Go(func() {
			<-start
			if d, _ := e.Match(newRequest("GET", "/", "", ""), capture.EndpointEntity, nil); d != nil {
				mu.Lock()
				fired++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	assertEqual(t, fired, 1, "hits")
}

func TestProbabilityWithSeedIsReproducible(t *testing.T) {
	t.Parallel()
	rule := workspace.Fault{ID: "coin", Endpoint: "*", Enabled: true, Drop: true, Probability: 0.5, Seed: 42}
	sequence := func(e *Engine) []bool {
		out := make([]bool, 40)
		for i := range out {
			d, _ := e.Match(newRequest("GET", "/", "", ""), capture.EndpointEntity, nil)
			out[i] = d != nil
		}
		return out
	}
	a, b := NewEngine(), NewEngine()
	mustNoError(t, a.SetRules([]workspace.Fault{rule}), "SetRules")
	mustNoError(t, b.SetRules([]workspace.Fault{rule}), "SetRules")
	first := sequence(a)
	assertEqual(t, slices.Equal(first, sequence(b)), true, "same seed, same sequence")
	a.Rearm("coin")
	assertEqual(t, slices.Equal(first, sequence(a)), true, "Rearm restarts the sequence")
	hits := 0
	for _, f := range first {
		if f {
			hits++
		}
	}
	if hits < 10 || hits > 30 {
		t.Errorf("%d of 40 fired at probability 0.5", hits)
	}
	rule.Seed = 43
	c := NewEngine()
	mustNoError(t, c.SetRules([]workspace.Fault{rule}), "SetRules")
	assertEqual(t, slices.Equal(first, sequence(c)), false, "another seed, another sequence")
}

func TestDelayAndJitter(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var slept []time.Duration
	e := NewEngine(WithSleep(func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		slept = append(slept, d)
		return nil
	}))
	mustNoError(t, e.SetRules([]workspace.Fault{
		{ID: "slow", Endpoint: "*", Enabled: true, DelayMS: 100, JitterMS: 50, Seed: 1},
	}), "SetRules")
	for range 50 {
		r := newRequest("GET", "/", "", "")
		d, _ := e.Match(r, capture.EndpointEntity, nil)
		if d == nil {
			t.Fatal("no decision")
		}
		if d.Apply(nil, r, capture.EndpointEntity) {
			t.Fatal("a delay-only rule handled the request")
		}
	}
	lo, hi := slices.Min(slept), slices.Max(slept)
	if lo < 50*time.Millisecond || hi > 150*time.Millisecond || lo == hi {
		t.Errorf("delays range over [%v, %v], want within [50ms, 150ms] and varied", lo, hi)
	}
}

func TestDecisionIsStamped(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	e := NewEngine(WithClock(func() time.Time { return at }))
	mustNoError(t, e.SetRules([]workspace.Fault{{ID: "r", Endpoint: "*", Enabled: true, Drop: true, Times: 3}}), "SetRules")
	d, _ := e.Match(newRequest("GET", "/", "", ""), capture.EndpointEntity, nil)
	assertEqual(t, d.At, at, "At")
	assertEqual(t, d.Remaining, 2, "Remaining")
}

func TestNoRuleAndNoConditionPathsDoNotAllocate(t *testing.T) {
	r := newRequest("POST", "/oauth/token", formType, "grant_type=x")
	none := NewEngine()
	ten := NewEngine()
	mustNoError(t, ten.SetRules(tenRulesElsewhere()), "SetRules")
	for name, e := range map[string]*Engine{"no rules": none, "ten rules": ten} {
		if n := testing.AllocsPerRun(100, func() { e.Match(r, capture.EndpointToken, nil) }); n != 0 {
			t.Errorf("%s: %v allocations per Match", name, n)
		}
	}
}

// tenRulesElsewhere are ten rules without conditions, none for
// capture.token.
func tenRulesElsewhere() []workspace.Fault {
	eps := Endpoints()
	eps = slices.DeleteFunc(eps, func(s string) bool { return s == capture.EndpointToken })
	rules := make([]workspace.Fault, 10)
	for i := range rules {
		rules[i] = workspace.Fault{ID: "r" + string(rune('a'+i)), Endpoint: eps[i%len(eps)], Enabled: true, Drop: true}
	}
	return rules
}

func errorString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
