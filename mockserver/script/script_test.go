package script

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The scripts of the package documentation, verbatim. The lead copies them
// into the default workspace, so these tests pin their behaviour.
const (
	qrBackchannelScript = `cel.bind(id, uuid(), {
  "status": 2000,
  "responsePayload": id,
  "cache": {"set": {id: {"value": payload.userId, "ttl": 100}}}
})`

	qrCompleteScript = `requestPayload in cache
  ? {
      "status": 2000,
      "user": {"id": cache[requestPayload]},
      "cache": {"delete": [requestPayload]}
    }
  : {"status": 5000}`

	seedBackchannelScript = `{
  "status": 2000,
  "responsePayload": json.encode({"custom_response_key": "custom_response_data"})
}`
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// run compiles and runs source on a default engine.
func run(t *testing.T, source string, in Input) (Result, error) {
	t.Helper()
	p, err := NewEngine().Compile(source)
	if err != nil {
		t.Fatalf("Compile(%q): %v", source, err)
	}
	return p.Run(context.Background(), in)
}

// mustRun is run for scripts that must succeed.
func mustRun(t *testing.T, source string, in Input) Result {
	t.Helper()
	res, err := run(t, source, in)
	if err != nil {
		t.Fatalf("Run(%q): %v", source, err)
	}
	return res
}

func TestQRCodeFlow(t *testing.T) {
	back := mustRun(t, qrBackchannelScript, Input{RequestPayload: `{"userId":"user-42"}`})
	if back.Status != 2000 || !back.Success() {
		t.Fatalf("backchannel status = %d, want 2000", back.Status)
	}
	id := back.ResponsePayload
	if !uuidPattern.MatchString(id) {
		t.Fatalf("backchannel responsePayload = %q, want a UUID", id)
	}
	wantSet := []CacheEntry{{Key: id, Value: "user-42", TTLSeconds: 100}}
	if !reflect.DeepEqual(back.CacheSet, wantSet) {
		t.Fatalf("backchannel CacheSet = %#v, want %#v (cel.bind must evaluate uuid() once)", back.CacheSet, wantSet)
	}

	cache := map[string]any{id: "user-42", "other": "user-7"}
	done := mustRun(t, qrCompleteScript, Input{RequestPayload: id, Cache: cache})
	want := Result{
		Status:      2000,
		User:        &User{ID: "user-42"},
		CacheDelete: []string{id},
		Cost:        done.Cost,
	}
	if !reflect.DeepEqual(done, want) {
		t.Fatalf("complete = %#v, want %#v", done, want)
	}

	unknown := mustRun(t, qrCompleteScript, Input{RequestPayload: "no-such-code", Cache: cache})
	if unknown.Status != 5000 || !unknown.Unrecoverable() || unknown.User != nil || unknown.CacheDelete != nil {
		t.Fatalf("complete with an unknown code = %#v, want only status 5000", unknown)
	}
}

func TestSeedBackchannel(t *testing.T) {
	res := mustRun(t, seedBackchannelScript, Input{RequestPayload: `{"custom_key":"custom_data"}`})
	if res.Status != 2000 {
		t.Errorf("status = %d, want 2000", res.Status)
	}
	const want = `{"custom_response_key":"custom_response_data"}`
	if res.ResponsePayload != want {
		t.Errorf("responsePayload = %q, want %q", res.ResponsePayload, want)
	}
}

// TestDocResultExample keeps the result shape in the package doc honest.
func TestDocResultExample(t *testing.T) {
	const doc = `{
	  "status": 2000,                  // required: 2000-2999 success,
	                                   // 4000-4999 retryable, 5000-5999 unrecoverable
	  "responsePayload": "...",        // string; a map or list is JSON-encoded
	  "user": {"id": "user-1",         // id required when user is present
	           "attributes": {"a": 1}},   // optional
	  "registrationData": "...",       // string
	  "cache": {
	    "set": {
	      "key-1": "any value",                  // stored without a time to live
	      "key-2": {"value": 42, "ttl": 100},    // stored for 100 seconds
	    },
	    "delete": ["key-3"],
	  },
	}`
	res := mustRun(t, doc, Input{})
	want := Result{
		Status:           2000,
		ResponsePayload:  "...",
		User:             &User{ID: "user-1", Attributes: map[string]any{"a": int64(1)}},
		RegistrationData: "...",
		CacheSet: []CacheEntry{
			{Key: "key-1", Value: "any value"},
			{Key: "key-2", Value: int64(42), TTLSeconds: 100},
		},
		CacheDelete: []string{"key-3"},
		Cost:        res.Cost,
	}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("got %#v\nwant %#v", res, want)
	}
}

func TestRun(t *testing.T) {
	in := Input{
		RequestPayload:   `{"userId":"u1","n":3,"f":1.5,"nested":{"list":[1,"two",null]}}`,
		UserIdentifier:   "alice",
		RegistrationData: "reg-data",
		IdP:              "idp-1",
		Cache:            map[string]any{"k": "v", "n": int64(7)},
		Now:              time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
	}
	tests := []struct {
		name, source string
		want         Result // Cost is ignored
	}{
		{"minimal", `{"status": 2000}`, Result{Status: 2000}},
		{"retryable", `{"status": 4001}`, Result{Status: 4001}},
		{"variables", `{"status": 2000, "responsePayload": [userIdentifier, registrationData, idp, string(now)].join(",")}`,
			Result{Status: 2000, ResponsePayload: "alice,reg-data,idp-1,2024-05-06T07:08:09Z"}},
		{"payload int and double", `{"status": 2000 + payload.n, "responsePayload": string(payload.f * 2.0)}`,
			Result{Status: 2003, ResponsePayload: "3"}},
		{"payload nested", `{"status": 2000, "responsePayload": payload.nested.list[1]}`,
			Result{Status: 2000, ResponsePayload: "two"}},
		{"cross-type comparison", `{"status": payload.f > 1 ? 2000 : 5000}`, Result{Status: 2000}},
		{"response map is JSON-encoded", `{"status": 2000, "responsePayload": {"b": [1, true, null], "a": "x"}}`,
			Result{Status: 2000, ResponsePayload: `{"a":"x","b":[1,true,null]}`}},
		{"null entries are absent", `{"status": 2000, "responsePayload": null, "user": null, "cache": null}`,
			Result{Status: 2000}},
		{"registrationData", `{"status": 2000, "registrationData": registrationData + "!"}`,
			Result{Status: 2000, RegistrationData: "reg-data!"}},
		{"user attributes", `{"status": 2000, "user": {"id": userIdentifier, "attributes": {"email": "a@b.c", "age": 3}}}`,
			Result{Status: 2000, User: &User{ID: "alice", Attributes: map[string]any{"email": "a@b.c", "age": int64(3)}}}},
		{"optional cache hit", `{"status": 2000, "responsePayload": cache[?"k"].orValue("none")}`,
			Result{Status: 2000, ResponsePayload: "v"}},
		{"optional cache miss", `{"status": 2000, "responsePayload": cache[?"missing"].orValue("none")}`,
			Result{Status: 2000, ResponsePayload: "none"}},
		{"cache int value", `{"status": 2000 + cache.n}`, Result{Status: 2007}},
		{"json round trip", `{"status": 2000, "responsePayload": json.encode(json.decode(requestPayload))}`,
			Result{Status: 2000, ResponsePayload: `{"f":1.5,"n":3,"nested":{"list":[1,"two",null]},"userId":"u1"}`}},
		{"json decode number rules", `{"status": json.decode("2000"), "responsePayload": type(json.decode("1.0")) == double ? "double" : "not double"}`,
			Result{Status: 2000, ResponsePayload: "double"}},
		{"strings ext", `{"status": 2000, "responsePayload": "a-b".split("-").join("+").upperAscii()}`,
			Result{Status: 2000, ResponsePayload: "A+B"}},
		{"base64", `{"status": 2000, "responsePayload": base64.encode(b"hi")}`,
			Result{Status: 2000, ResponsePayload: "aGk="}},
		{"math and lists ext", `{"status": math.greatest([2000, 1]) + lists.range(3).size()}`,
			Result{Status: 2003}},
		{"sets ext", `{"status": sets.contains([1, 2], [2]) ? 2000 : 5000}`, Result{Status: 2000}},
		{"two-variable comprehension", `{"status": 2000, "responsePayload": cache.transformMap(k, v, k == "k", v)}`,
			Result{Status: 2000, ResponsePayload: `{"k":"v"}`}},
	}
	e := NewEngine()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.Compile(tc.source)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := p.Run(context.Background(), in)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			got.Cost = 0 // constant scripts cost nothing: OptOptimize folds them
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestPayloadIsNullWhenNotJSON(t *testing.T) {
	for _, payload := range []string{"", "not json", "{", `{"a":1} trailing`} {
		res := mustRun(t, `{"status": payload == null ? 2000 : 5000}`, Input{RequestPayload: payload})
		if res.Status != 2000 {
			t.Errorf("payload for %q is not null", payload)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name, source string
		want         []Issue
	}{
		{"syntax error position", "{\"status\":\n  2000 +}", []Issue{{Line: 2, Column: 9,
			Message: "Syntax error: mismatched input '}' expecting"}}},
		{"undeclared variable", `{"status": nope}`, []Issue{{Line: 1, Column: 12,
			Message: "undeclared reference to 'nope'"}}},
		{"non-map result", "  \n  1 + 2", []Issue{{Line: 2, Column: 3,
			Message: "the script must evaluate to a map such as {\"status\": 2000}, but it evaluates to int"}}},
		{"list result", `[1].map(x, x)`, []Issue{{Line: 1, Column: 1, Message: "evaluates to list(int)"}}},
		{"map with int keys", `{1: 2}`, []Issue{{Line: 1, Column: 1, Message: "evaluates to map(int, int)"}}},
		{"optional result", `cache[?"k"]`, []Issue{{Line: 1, Column: 1, Message: "evaluates to optional_type(dyn)"}}},
		{"string result", `requestPayload`, []Issue{{Line: 1, Column: 1, Message: "evaluates to string"}}},
	}
	e := NewEngine()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.Check(tc.source)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Check = %v, want a *CompileError", err)
			}
			if len(ce.Issues) != len(tc.want) {
				t.Fatalf("issues = %v, want %v", ce.Issues, tc.want)
			}
			for i, want := range tc.want {
				got := ce.Issues[i]
				if got.Line != want.Line || got.Column != want.Column || !strings.Contains(got.Message, want.Message) {
					t.Errorf("issue %d = %v, want %v", i, got, want)
				}
			}
			if _, err := e.Compile(tc.source); !errors.As(err, &ce) {
				t.Errorf("Compile = %v, want a *CompileError", err)
			}
		})
	}
}

func TestCompileErrorFormat(t *testing.T) {
	err := NewEngine().Check("{\"status\":\n    2000 +}")
	if got := err.Error(); !strings.HasPrefix(got, "2:11: Syntax error: mismatched input '}'") {
		t.Errorf("Error() = %q, want it to start with the position", got)
	}
}

func TestCheckAcceptsDyn(t *testing.T) {
	// The checker cannot know what payload holds; Run validates it.
	if err := NewEngine().Check(`payload`); err != nil {
		t.Fatalf("Check(payload) = %v, want nil", err)
	}
}

func TestResultErrors(t *testing.T) {
	tests := []struct{ name, source, key, message string }{
		{"not a map", `payload`, "", `result must be a map such as {"status": 2000}, got "ok"`},
		{"missing status", `{"responsePayload": "x"}`, "status", "result.status is required"},
		{"status not an int", `{"status": "ok"}`, "status",
			`result.status must be an int in 2000-2999, 4000-4999 or 5000-5999, got "ok"`},
		{"status double", `{"status": 2000.0}`, "status", "must be an int in 2000-2999, 4000-4999 or 5000-5999, got 2000.0"},
		{"status uint", `{"status": 2000u}`, "status", "got 2000u"},
		{"status too low", `{"status": 1999}`, "status", "got 1999"},
		{"status in the gap", `{"status": 3000}`, "status", "got 3000"},
		{"status too high", `{"status": 6000}`, "status", "got 6000"},
		{"unknown key", `{"status": 2000, "responsePayLoad": "x"}`, "responsePayLoad",
			"result.responsePayLoad is not a known key (allowed: status, responsePayload, user, registrationData, cache)"},
		{"response payload int", `{"status": 2000, "responsePayload": 5}`, "responsePayload",
			"result.responsePayload must be a string, map or list, got 5"},
		{"response payload NaN", `{"status": 2000, "responsePayload": [0.0 / 0.0]}`, "responsePayload",
			"result.responsePayload cannot be encoded as JSON"},
		{"user not a map", `{"status": 2000, "user": "alice"}`, "user", `result.user must be a map such as {"id": "user-1"}, got "alice"`},
		{"user without id", `{"status": 2000, "user": {}}`, "user.id", "result.user.id is required and must be a non-empty string"},
		{"user id not a string", `{"status": 2000, "user": {"id": 1}}`, "user.id", "result.user.id must be a string, got 1"},
		{"user unknown key", `{"status": 2000, "user": {"id": "a", "name": "b"}}`, "user.name", "result.user.name is not a known key"},
		{"user attributes list", `{"status": 2000, "user": {"id": "a", "attributes": []}}`, "user.attributes", "must be a map, got a list"},
		{"registrationData", `{"status": 2000, "registrationData": {}}`, "registrationData", "result.registrationData must be a string, got a map"},
		{"cache not a map", `{"status": 2000, "cache": []}`, "cache", "result.cache must be a map"},
		{"cache unknown key", `{"status": 2000, "cache": {"put": {}}}`, "cache.put", "result.cache.put is not a known key (allowed: set, delete)"},
		{"cache set list", `{"status": 2000, "cache": {"set": ["a"]}}`, "cache.set", "result.cache.set must be a map from key to value, got a list"},
		{"cache set int key", `{"status": 2000, "cache": {"set": {1: "a"}}}`, "cache.set", "map keys must be strings, got 1"},
		{"cache ttl string", `{"status": 2000, "cache": {"set": {"a": {"value": 1, "ttl": "1m"}}}}`, `cache.set["a"].ttl`,
			`result.cache.set["a"].ttl must be a positive int (seconds), got "1m"`},
		{"cache ttl zero", `{"status": 2000, "cache": {"set": {"a": {"value": 1, "ttl": 0}}}}`, `cache.set["a"].ttl`, "got 0"},
		{"cache value optional", `{"status": 2000, "cache": {"set": {"a": optional.of(1)}}}`, `cache.set["a"]`,
			`result.cache.set["a"] cannot be stored: cannot store a value of type optional_type`},
		{"cache delete string", `{"status": 2000, "cache": {"delete": "a"}}`, "cache.delete", "must be a list of keys, got \"a\""},
		{"cache delete int", `{"status": 2000, "cache": {"delete": ["a", 2]}}`, "cache.delete", "must contain only string keys, got 2 at index 1"},
		{"cache set and delete", `{"status": 2000, "cache": {"set": {"a": 1}, "delete": ["a"]}}`, "cache", `sets and deletes the same key "a"`},
	}
	e := NewEngine()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.Compile(tc.source)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			_, err = p.Run(context.Background(), Input{RequestPayload: `"ok"`})
			var re *ResultError
			if !errors.As(err, &re) {
				t.Fatalf("Run = %v, want a *ResultError", err)
			}
			if re.Key != tc.key || !strings.Contains(re.Message, tc.message) {
				t.Errorf("got key %q message %q\nwant key %q message containing %q", re.Key, re.Message, tc.key, tc.message)
			}
		})
	}
}

func TestCacheShapes(t *testing.T) {
	res := mustRun(t, `{"status": 2000, "cache": {
	  "set": {
	    "plain": "v",
	    "map": {"a": [1, 2.5, null, true]},
	    "wrapped": {"value": {"x": 1}},
	    "ttl": {"value": "v", "ttl": 60},
	    "literal-value-map": {"value": {"value": 1}},
	    "not-wrapped": {"value": 1, "other": 2},
	    "ttl-alone": {"ttl": 5},
	    "null-value": {"value": null, "ttl": 7},
	    "time": timestamp("2024-01-02T03:04:05Z")
	  },
	  "delete": ["z", "y", "z"]
	}}`, Input{})
	want := []CacheEntry{
		{Key: "literal-value-map", Value: map[string]any{"value": int64(1)}},
		{Key: "map", Value: map[string]any{"a": []any{int64(1), 2.5, nil, true}}},
		{Key: "not-wrapped", Value: map[string]any{"value": int64(1), "other": int64(2)}},
		{Key: "null-value", Value: nil, TTLSeconds: 7},
		{Key: "plain", Value: "v"},
		{Key: "time", Value: "2024-01-02T03:04:05Z"},
		{Key: "ttl", Value: "v", TTLSeconds: 60},
		{Key: "ttl-alone", Value: map[string]any{"ttl": int64(5)}},
		{Key: "wrapped", Value: map[string]any{"x": int64(1)}},
	}
	if !reflect.DeepEqual(res.CacheSet, want) {
		t.Errorf("CacheSet =\n%#v\nwant\n%#v", res.CacheSet, want)
	}
	if want := []string{"y", "z"}; !reflect.DeepEqual(res.CacheDelete, want) {
		t.Errorf("CacheDelete = %v, want %v (sorted, deduplicated)", res.CacheDelete, want)
	}
}

// A result need not be a map the script spelled out: one decoded from JSON
// (a different map type underneath) is read the same way.
func TestResultFromDecodedJSON(t *testing.T) {
	res := mustRun(t, `json.decode('{"status": 2000, "responsePayload": {"b": 1, "a": [true]}, "registrationData": null,'
	  + ' "user": {"id": "u1", "attributes": {"n": 1.5}}, "cache": {"set": {"k": {"value": "v", "ttl": 9}}}}')`, Input{})
	want := Result{
		Status:          2000,
		ResponsePayload: `{"a":[true],"b":1}`,
		User:            &User{ID: "u1", Attributes: map[string]any{"n": 1.5}},
		CacheSet:        []CacheEntry{{Key: "k", Value: "v", TTLSeconds: 9}},
		Cost:            res.Cost,
	}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("got %#v\nwant %#v", res, want)
	}
	_, err := run(t, `json.decode('{"status": 2000, "extra": 1}')`, Input{})
	var re *ResultError
	if !errors.As(err, &re) || re.Key != "extra" {
		t.Errorf("unknown key in a decoded result: %v, want a *ResultError for extra", err)
	}
}

func TestUUID(t *testing.T) {
	res := mustRun(t, `{"status": 2000, "responsePayload": [uuid(), uuid()].join(" ")}`, Input{})
	ids := strings.Split(res.ResponsePayload, " ")
	for _, id := range ids {
		if !uuidPattern.MatchString(id) {
			t.Errorf("uuid() = %q, want a version 4 UUID", id)
		}
	}
	if ids[0] == ids[1] {
		t.Errorf("two uuid() calls returned the same %q", ids[0])
	}
}

func TestRuntimeError(t *testing.T) {
	_, err := run(t, `{"status": 2000, "user": {"id": cache["missing"]}}`, Input{})
	var re *RuntimeError
	if !errors.As(err, &re) {
		t.Fatalf("Run = %v, want a *RuntimeError", err)
	}
	if re.Line != 1 || re.Column != 38 || !strings.Contains(re.Message, "no such key: missing") {
		t.Errorf("RuntimeError = %+v, want no such key at 1:38", re)
	}
	if IsBudgetExceeded(err) {
		t.Errorf("IsBudgetExceeded(%v) = true", err)
	}

	_, err = run(t, `{"status": json.decode("{")}`, Input{})
	if !errors.As(err, &re) || !strings.Contains(re.Message, "json.decode") {
		t.Errorf("json.decode of invalid JSON = %v, want a *RuntimeError naming json.decode", err)
	}
}

// expensiveScript does about 9 million multiplications.
const expensiveScript = `{"status": 2000 + lists.range(3000).map(x, lists.range(3000).map(y, x * y)).size()}`

func TestCostLimit(t *testing.T) {
	p, err := NewEngine(WithCostLimit(10_000)).Compile(expensiveScript)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = p.Run(context.Background(), Input{})
	if !errors.Is(err, ErrCostLimit) || !IsBudgetExceeded(err) {
		t.Fatalf("Run = %v, want ErrCostLimit", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("stopping took %v, want it to be prompt", d)
	}
	var re *RuntimeError
	if errors.As(err, &re) {
		t.Errorf("a budget error must not be a *RuntimeError")
	}
}

func TestDefaultCostLimitStopsNestedComprehension(t *testing.T) {
	// A long timeout isolates the cost limit from the race detector's
	// slowdown.
	p, err := NewEngine(WithTimeout(time.Minute)).Compile(expensiveScript)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = p.Run(context.Background(), Input{})
	t.Logf("the default cost limit stopped the script after %v", time.Since(start))
	if !errors.Is(err, ErrCostLimit) {
		t.Fatalf("Run = %v, want ErrCostLimit under the default limit", err)
	}
}

func TestJSONEncodeIsCharged(t *testing.T) {
	// A big encode must cost more than a small one.
	small := mustRun(t, `{"status": 2000, "responsePayload": json.encode("a")}`, Input{})
	big := mustRun(t, `{"status": 2000, "responsePayload": json.encode(lists.range(1000).map(i, "0123456789").join())}`, Input{})
	if big.Cost < small.Cost+500 {
		t.Errorf("cost of encoding 10000 characters = %d, of 1 = %d; want it charged by size", big.Cost, small.Cost)
	}
}

func TestTimeout(t *testing.T) {
	p, err := NewEngine(WithCostLimit(0), WithTimeout(5*time.Millisecond)).Compile(expensiveScript)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = p.Run(context.Background(), Input{})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || !IsBudgetExceeded(err) {
		t.Fatalf("Run = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("stopping took %v, want about 5ms", d)
	}
}

func TestCallerDeadlineAndCancel(t *testing.T) {
	p, err := NewEngine(WithCostLimit(0), WithTimeout(0)).Compile(expensiveScript)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := p.Run(ctx, Input{}); !errors.Is(err, ErrTimeout) {
		t.Errorf("Run with a caller deadline = %v, want ErrTimeout", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(5*time.Millisecond, cancel)
	_, err = p.Run(ctx, Input{})
	if !errors.Is(err, context.Canceled) || IsBudgetExceeded(err) {
		t.Errorf("Run with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestProgramCache(t *testing.T) {
	e := NewEngine(WithCacheSize(2))
	a1, err := e.Program(`{"status": 2000}`)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := e.Program(`{"status": 2000}`)
	if a1 != a2 {
		t.Error("Program compiled the same source twice")
	}
	if _, err := e.Program(`{"status": 2001}`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Program(`{"status": `); err == nil {
		t.Fatal("Program accepted an invalid script")
	}
	if n := e.cache.len(); n != 2 {
		t.Errorf("cache holds %d programs, want 2 (invalid scripts are not cached)", n)
	}
	e.Program(`{"status": 2000}`) // make 2001 the least recently used
	e.Program(`{"status": 2002}`)
	if a3, _ := e.Program(`{"status": 2000}`); a3 != a1 {
		t.Error("the recently used program was evicted")
	}
	if _, ok := e.cache.get(`{"status": 2001}`); ok {
		t.Error("the least recently used program was kept")
	}
	if p, _ := e.Compile(`{"status": 2000}`); p == a1 {
		t.Error("Compile returned the cached program")
	}
}

func TestConcurrentRun(t *testing.T) {
	e := NewEngine()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			p, err := e.Program(qrCompleteScript)
			if err != nil {
				t.Error(err)
				return
			}
			for i := range 200 {
				id := string(rune('a'+g)) + string(rune('a'+i%26))
				want := 5000
				cache := map[string]any{"other": "x"}
				if i%2 == 0 {
					cache[id] = "user-" + id
					want = 2000
				}
				res, err := p.Run(context.Background(), Input{RequestPayload: id, Cache: cache})
				if err != nil {
					t.Error(err)
					return
				}
				if res.Status != want || (want == 2000 && res.User.ID != "user-"+id) {
					t.Errorf("goroutine %d run %d: got %+v", g, i, res)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestResultHelpers(t *testing.T) {
	for _, tc := range []struct {
		status                            int
		success, retryable, unrecoverable bool
	}{
		{2000, true, false, false},
		{2999, true, false, false},
		{4000, false, true, false},
		{4999, false, true, false},
		{5000, false, false, true},
		{5999, false, false, true},
	} {
		r := Result{Status: tc.status}
		if r.Success() != tc.success || r.Retryable() != tc.retryable || r.Unrecoverable() != tc.unrecoverable {
			t.Errorf("status %d: Success %v Retryable %v Unrecoverable %v", tc.status, r.Success(), r.Retryable(), r.Unrecoverable())
		}
	}
}

func TestHasLoop(t *testing.T) {
	e := NewEngine()
	for _, tc := range []struct {
		source string
		want   bool
	}{
		{qrBackchannelScript, false}, // cel.bind never iterates
		{qrCompleteScript, false},
		{seedBackchannelScript, false},
		{expensiveScript, true},
		{`{"status": [1, 2].exists(x, x == 2) ? 2000 : 5000}`, true},
		{`{"status": cache.all(k, k != "") ? 2000 : 5000}`, true},
	} {
		p, err := e.Compile(tc.source)
		if err != nil {
			t.Fatal(err)
		}
		if p.loops != tc.want {
			t.Errorf("hasLoop(%q) = %v, want %v", tc.source, p.loops, tc.want)
		}
	}
}

func TestLoopFreeScriptHonoursDoneContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, err := NewEngine().Compile(`{"status": 2000}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(ctx, Input{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestNow(t *testing.T) {
	before := time.Now()
	res := mustRun(t, `{"status": 2000, "responsePayload": string(now)}`, Input{})
	got, err := time.Parse(time.RFC3339Nano, res.ResponsePayload)
	if err != nil || got.Before(before.Add(-time.Second)) || got.After(time.Now().Add(time.Second)) {
		t.Errorf("now = %q, want the current time when Input.Now is zero", res.ResponsePayload)
	}
}
