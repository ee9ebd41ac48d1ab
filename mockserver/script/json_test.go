package script

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"cel.dev/cel-go/common/types"
)

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{`1`, int64(1)},
		{`-7`, int64(-7)},
		{`1.0`, 1.0},
		{`1e3`, 1000.0},
		{`9223372036854775808`, 9223372036854775808.0}, // beyond int64
		{`"s"`, "s"},
		{`null`, nil},
		{` {"a": [1, 2.5, true, null, {"b": "c"}]} `,
			map[string]any{"a": []any{int64(1), 2.5, true, nil, map[string]any{"b": "c"}}}},
	}
	for _, tc := range tests {
		got, err := DecodeJSON(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("DecodeJSON(%s) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{``, `{`, `{"a":1}{}`, `1 2`, `nope`} {
		if _, err := DecodeJSON(bad); err == nil {
			t.Errorf("DecodeJSON(%q) succeeded, want an error", bad)
		}
	}
}

// TestAppendJSONMatchesEncodingJSON checks the hand-written encoder against
// encoding/json (with HTML escaping off) on the values both can encode.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	values := []any{
		nil, true, false, int64(0), int64(-42), int64(math.MaxInt64), uint64(math.MaxUint64),
		0.0, 1.5, -0.000001, 1e-7, 1e21, 123456789.125, 1e20, 5e-324,
		"", "plain", "quote\" backslash\\ newline\n tab\t cr\r", "\x00\x01\x1f\x7f",
		"<html> & 'x'", "üñíçødé 😀", "line\u2028sep\u2029", "bad\xffutf8",
		[]any{}, map[string]any{},
		map[string]any{"b": int64(1), "a": []any{"x", nil, map[string]any{"z": 1.25, "y": false}}},
	}
	for _, v := range values {
		got, err := appendJSON(nil, types.DefaultTypeAdapter.NativeToValue(v), 0)
		if err != nil {
			t.Errorf("appendJSON(%#v): %v", v, err)
			continue
		}
		var want strings.Builder
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if string(got) != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("appendJSON(%#v) = %s, encoding/json gives %s", v, got, want.String())
		}
	}
}

func TestJSONEncodeInScripts(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`{"b": 1, "a": {"d": [1u, 2.5], "c": null}}`, `{"a":{"c":null,"d":[1,2.5]},"b":1}`},
		{`timestamp("2024-01-02T03:04:05.5Z")`, `"2024-01-02T03:04:05.5Z"`},
		{`duration("1m30s")`, `"90s"`},
		{`b"hi"`, `"aGk="`},
		{`payload`, `{"n":1,"s":"x"}`},
		{`cache`, `{"k":[1,"v"]}`},
	}
	for _, tc := range tests {
		res := mustRun(t, `{"status": 2000, "responsePayload": json.encode(`+tc.expr+`)}`,
			Input{RequestPayload: `{"s":"x","n":1}`, Cache: map[string]any{"k": []any{1, "v"}}})
		if res.ResponsePayload != tc.want {
			t.Errorf("json.encode(%s) = %s, want %s", tc.expr, res.ResponsePayload, tc.want)
		}
	}
	for _, tc := range []struct{ expr, want string }{
		{`0.0 / 0.0`, "cannot encode NaN: JSON has no NaN or infinity"},
		{`{1: 2}`, "map keys must be strings, got 1"},
		{`optional.of(1)`, "cannot encode a value of type optional_type"},
		{`int`, "cannot encode a value of type type"},
	} {
		_, err := run(t, `{"status": 2000, "responsePayload": json.encode(`+tc.expr+`)}`, Input{})
		if err == nil || !strings.Contains(err.Error(), "json.encode: "+tc.want) {
			t.Errorf("json.encode(%s) error = %v, want it to contain %q", tc.expr, err, tc.want)
		}
	}
}

func TestJSONDecodeInScripts(t *testing.T) {
	res := mustRun(t, `cel.bind(v, json.decode(requestPayload), {
	  "status": 2000 + v.n,
	  "responsePayload": v.list.map(x, string(x)).join(",")
	})`, Input{RequestPayload: `{"n": 5, "list": [1, 2.5, "s", true]}`})
	if res.Status != 2005 || res.ResponsePayload != "1,2.5,s,true" {
		t.Errorf("got %+v", res)
	}
}

// FuzzDecodeJSONFast holds the fast decoder to encoding/json's answers:
// whatever it decodes, encoding/json decodes to the same value.
func FuzzDecodeJSONFast(f *testing.F) {
	for _, seed := range []string{
		`{"userId":"user-42"}`, `{"email_address":"jane@example.com"}`, `0b6f4f8e-2c1e-4c55-9b1e-3f0c2a7d9e10`,
		` {"a": [1, -0, 2.5e-3, 1E2, true, false, null, {"b": "c"}], "a": "dup"} `, `9223372036854775808`,
		`"üñí"`, `"a\nb"`, "\"bad\xff\"", `[01]`, `1.`, `-`, `{"a":1,}`, `[1 2]`, `tru`, `""`, `{}`, `[]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := decodeJSONFast(s)
		if !ok {
			return
		}
		slow, err := decodeJSONSlow(s)
		if err != nil {
			t.Fatalf("fast decoder accepted %q, encoding/json refuses it: %v", s, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("decoding %q: fast %#v, encoding/json %#v", s, fast, slow)
		}
	})
}

func TestDecodeJSONFastLeavesTheHardCasesToEncodingJSON(t *testing.T) {
	for _, s := range []string{`"a\nb"`, "\"bad\xff\"", "\"tab\there\"", `[01]`, `1.`, `{"a":1,}`,
		strings.Repeat("[", 100) + strings.Repeat("]", 100)} {
		if v, ok := decodeJSONFast(s); ok {
			t.Errorf("fast decoder took %q as %#v; it must leave it to encoding/json", s, v)
		}
	}
	for _, s := range []string{`{"userId":"user-42"}`, ` [1, 2.5, "x", null] `, `-0`, `"ünï"`} {
		if _, ok := decodeJSONFast(s); !ok {
			t.Errorf("fast decoder left %q to encoding/json", s)
		}
	}
}

// FuzzDecodeCELFast holds the payload's decoder to the values CEL makes
// of decodeJSONFast's: it takes and leaves the same documents, and its
// values are equal to CEL's, print alike and have the same type.
func FuzzDecodeCELFast(f *testing.F) {
	for _, seed := range []string{
		`{"userId":"user-42"}`, `{"a": {"b": [1, 2.5, "x", null, true]}, "a": "dup", "c": {}}`, `[]`, `-0`,
		`{"1":1,"2":2,"3":3,"4":4,"5":5,"6":6,"7":7,"8":8}`, `{"1":1,"2":2,"3":3,"4":4,"5":5,"6":6,"7":7,"8":8,"9":9}`,
		`{"1":1,"2":2,"3":3,"4":4,"5":5,"6":6,"7":7,"8":8,"1":0}`, `{"1":1,"2":2,"3":3,"4":4,"5":5,"6":6,"7":7,"8":8,"9":9,"1":0}`,
		`9223372036854775808`, `"üñí"`, `"a\nb"`, `{"a":1,}`, `tru`, `null`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ours, ok := decodeCELFast(s)
		native, wantOK := decodeJSONFast(s)
		if ok != wantOK {
			t.Fatalf("decoding %q: ok %v, decodeJSONFast's %v", s, ok, wantOK)
		}
		if !ok {
			return
		}
		want := types.DefaultTypeAdapter.NativeToValue(native)
		if ours.Equal(want) != types.True || want.Equal(ours) != types.True {
			t.Fatalf("decoding %q: %v, CEL makes %v", s, ours, want)
		}
		if got, want := types.Format(ours), types.Format(want); got != want {
			t.Fatalf("decoding %q prints %s, CEL's %s", s, got, want)
		}
		if ours.Type() != want.Type() {
			t.Fatalf("decoding %q: a %v, CEL's a %v", s, ours.Type(), want.Type())
		}
	})
}
