package script

import (
	"strings"
	"testing"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// evalBoth evaluates source planned as newProgram plans it and planned
// without literalMaps, the oracle, against payload, and returns the two
// answers and costs. The oracle also sees the payload as CEL makes it of
// a Go map, not decoded into literalMaps. Any expression compiles, not
// only a script's map.
func evalBoth(t *testing.T, e *Engine, source, payload string) (ours, theirs ref.Val, ourCost, theirCost uint64) {
	t.Helper()
	ast, iss := e.env.Compile(source)
	if iss.Err() != nil {
		t.Fatalf("%s: %v", source, iss.Err())
	}
	p, err := e.newProgram(source, ast)
	if err != nil {
		t.Fatal(err)
	}
	oracle, err := e.env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(e.costLimit))
	if err != nil {
		t.Fatal(err)
	}
	eval := func(prg cel.Program, celPayload bool) (ref.Val, uint64) {
		act := newActivation(Input{RequestPayload: payload, IdP: "k"})
		defer act.release()
		if celPayload {
			native, err := DecodeJSON(payload)
			if err != nil {
				t.Fatal(err)
			}
			act.payload = types.DefaultTypeAdapter.NativeToValue(native)
		}
		out, det, err := prg.Eval(act)
		if err != nil {
			out = types.NewErr("%v", err)
		}
		return out, *det.ActualCost()
	}
	ours, ourCost = eval(p.prg, false)
	theirs, theirCost = eval(oracle, true)
	return ours, theirs, ourCost, theirCost
}

// TestLiteralMapsBehaveAsCELMaps holds every way a script can use a map
// literal to the answer CEL's own map gives: lookups that hit and miss
// (with CEL's error), other key types, presence, equality both ways,
// comprehensions, formatting, JSON, conversions, repeated keys, errors
// inside the literal, and the cost charged.
func TestLiteralMapsBehaveAsCELMaps(t *testing.T) {
	e := NewEngine()
	const payload = `{"x": 1, "s": "k", "o": {"a": [1, 2]}}`
	for _, source := range []string{
		`{"a": payload.x}`,
		`{"a": payload.x}["a"]`,
		`{"a": payload.x}["b"]`,
		`{"a": payload.x}[payload.s]`,
		`{"k": payload.x}[payload.s]`,
		`[{"a": payload.x}][0]["b"]`,
		`({"a": payload.x}.a == 1 ? {"a": payload.x} : {"b": 1})["b"]`,
		`{"a": payload.x}.a`,
		`{"a": payload.x}.b`,
		`dyn({"a": payload.x})[1]`,
		`dyn({"a": payload.x})[1.5]`,
		`dyn({"a": payload.x})[payload.o]`,
		`dyn({"a": payload.x})[payload.o.a]`,
		`"a" in {"a": payload.x}`,
		`"b" in {"a": payload.x}`,
		`dyn(1) in {"a": payload.x}`,
		`has({"a": payload.x}.a)`,
		`has({"a": payload.x}.b)`,
		`{"a": payload.x}.?a.orValue(0)`,
		`{"a": payload.x}.?b.orValue(0)`,
		`{"a": payload.x}[?"b"].hasValue()`,
		`size({"a": payload.x, "b": 2})`,
		`{"a": payload.x, "b": 2}.size()`,
		`{"a": payload.x} == {"a": 1}`,
		`{"a": 1} == {"a": payload.x}`,
		`{"a": payload.x} == {"a": payload.x}`,
		`{"a": payload.x} == {"a": 2}`,
		`{"a": payload.x} != {"b": 1}`,
		`{"a": payload.x} == {"a": 1, "b": 2}`,
		`dyn({"a": payload.x}) == dyn({1: 1})`,
		`dyn({"a": payload.x}) == dyn([1])`,
		`{"a": payload.x, "b": 2}.all(k, k in ["a", "b"])`,
		`{"a": payload.x, "b": 2}.exists(k, k == "z")`, // no match: stopping early would depend on the order
		`{"a": payload.x, "b": 2}.exists_one(k, k == "b")`,
		`{"a": payload.x, "b": 2}.map(k, k).sort()`,
		`{"a": payload.x, "b": 2}.filter(k, k == "a")`,
		`{"a": payload.x, "b": 2}.all(k, v, v > 0)`,
		`{"a": payload.x, "b": 2}.transformList(k, v, k + string(v)).sort()`,
		`{"a": payload.x, "b": 2}.transformMap(k, v, v * 2)`,
		`"%s".format([{"b": payload.x, "a": "z"}])`,
		`string(json.encode({"b": payload.x, "a": [payload.s]}))`,
		`json.encode({"b": {"c": payload.o}, "a": null})`,
		`{"a": payload.x, "a": 2}`,
		`{payload.s: 1, "k": 2}`,
		`{"k": 1, payload.s: 2}["k"]`,
		`{payload.s: 1, idp: 2}`,
		`{1: payload.x}[1]`,
		`dyn({1: payload.x})[1u]`,
		`{true: payload.x}[true]`,
		`dyn({"a": payload.x, 1: 2})[1]`,
		`dyn({"a": payload.x, 1: 2})["a"]`,
		`{"a": 1 / (payload.x - 1)}`,
		`{payload.nope: 1}`,
		`{"a": payload.nope}`,
		`type({"a": payload.x}) == map`,
		`dyn({"a": payload.x})`,
		`{"a": payload.x}.a + {"b": 2}.b`,
		`{"a": {"b": {"c": payload.x}}}.a.b.c`,
		`{"a": payload.x, "b": 2, "c": 3, "d": 4, "e": 5}`,
		`{"a": payload.x, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8}.h`,
		`{"a": payload.x, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9}.i`,
		`{?"a": optional.of(payload.x), ?"b": optional.none()}`,
		`{"a": payload.x}.a == 1 ? {"status": 2000, "user": {"id": payload.s}} : {"status": 4000}`,
		`[{"a": payload.x}, {"a": 2}].map(m, m.a)`,
		`[1, 2, 3].map(i, {"i": i + payload.x}).filter(m, m.i > 2).size()`,
		`cel.bind(m, {"a": payload.x}, m.a + size(m))`,
		`sets.contains([{"a": payload.x}], [{"a": 1}])`,
		`{"a": payload.x} in [{"a": 1}]`,
		`{"a": payload.o}.a.a[1]`,
		`math.greatest([{"a": payload.x}.a, 3])`,
		// The payload's own objects, decoded into literalMaps.
		`payload`,
		`payload.x`,
		`payload.nope`,
		`payload["nope"]`,
		`has(payload.x)`,
		`has(payload.nope)`,
		`"x" in payload`,
		`dyn(payload)[1]`,
		`payload.?nope.orValue(0)`,
		`size(payload)`,
		`payload.o.a.size() + payload.o.a[1]`,
		`payload == {"x": 1, "s": "k", "o": {"a": [1, 2]}}`,
		`{"x": 1, "s": "k", "o": {"a": [1, 2]}} == payload`,
		`payload.o == {"a": [1, 2]}`,
		`json.encode(payload)`,
		`payload.all(k, k != "")`,
		`payload.map(k, k).sort()`,
		`"%s".format([payload])`,
		`{"value": payload, "ttl": 100}`,
	} {
		ours, theirs, ourCost, theirCost := evalBoth(t, e, source, payload)
		if got, want := types.Format(ours), types.Format(theirs); got != want && !sameQualifierError(got, want) {
			t.Errorf("%s = %s, CEL's own maps give %s", source, got, want)
		}
		if !types.IsError(theirs) && ours.Equal(theirs) != types.True {
			t.Errorf("%s = %v, not equal to CEL's %v", source, ours, theirs)
		}
		if ours.Type() != theirs.Type() {
			t.Errorf("%s has type %v, CEL's %v", source, ours.Type(), theirs.Type())
		}
		if ourCost != theirCost {
			t.Errorf("%s costs %d, with CEL's own maps %d", source, ourCost, theirCost)
		}
	}
}

// sameQualifierError reports two of CEL's errors for a map or list used
// as a key, which name the key's Go type: a literalMap, or CEL's own.
func sameQualifierError(a, b string) bool {
	const prefix = "invalid qualifier type: "
	return strings.HasPrefix(a, prefix) && strings.HasPrefix(b, prefix)
}

// TestLiteralMapsReplaceOnlyWhatTheyShould checks which literals become
// literalMaps: those of string keys with an entry computed at run time,
// up to maxLiteralEntries, without optional entries.
func TestLiteralMapsReplaceOnlyWhatTheyShould(t *testing.T) {
	e := NewEngine()
	for _, tc := range []struct {
		source  string
		literal bool
	}{
		{`{"a": payload.x}`, true},
		{`{payload.s: 1}`, true},
		{`{"a": 1}`, false},               // constant: folded by CEL
		{`{1: payload.x}`, false},         // an int key
		{`{"a": payload.x, 1: 2}`, false}, // a mixed literal
		{`{?"a": optional.of(payload.x)}`, false},
		{`{"a": payload.x, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8}`, true},
		{`{"a": payload.x, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9}`, false},
	} {
		ast, iss := e.env.Compile(tc.source)
		if iss.Err() != nil {
			t.Fatalf("%s: %v", tc.source, iss.Err())
		}
		p, err := e.newProgram(tc.source, ast)
		if err != nil {
			t.Fatal(err)
		}
		act := newActivation(Input{RequestPayload: `{"x": 1, "s": "k"}`})
		out, _, err := p.prg.Eval(act)
		act.release()
		if err != nil {
			t.Fatalf("%s: %v", tc.source, err)
		}
		if _, literal := out.(*literalMap); literal != tc.literal {
			t.Errorf("%s evaluates to a %T, want a literalMap: %v", tc.source, out, tc.literal)
		}
	}
}

// TestLiteralMapSizes checks that each size of literal keeps its entries
// in the room allocated for them, in order, a repeated key in place.
func TestLiteralMapSizes(t *testing.T) {
	for n := range 11 {
		m := newLiteralMap(types.DefaultTypeAdapter, n)
		for i := range n {
			m.put(types.String(string(rune('a'+i))), types.Int(i))
		}
		m.put(types.String("a"), types.Int(-1))
		want := max(n, 1)
		if got := int(m.Size().(types.Int)); got != want {
			t.Fatalf("room for %d: size %d, want %d", n, got, want)
		}
		if v := m.Get(types.String("a")); v != types.Int(-1) {
			t.Errorf("room for %d: a = %v after it was set again", n, v)
		}
		for i := 1; i < n; i++ {
			if e := m.entries[i]; e.key != types.String(string(rune('a'+i))) || e.val != types.Int(i) {
				t.Errorf("room for %d: entry %d is %v: %v", n, i, e.key, e.val)
			}
		}
	}
}

// TestLiteralMapLookupsMatchCEL calls the lookups directly, as functions
// of CEL's libraries may, with keys of every kind, hit and miss.
func TestLiteralMapLookupsMatchCEL(t *testing.T) {
	m := newLiteralMap(types.DefaultTypeAdapter, 2)
	m.put(types.String("a"), types.Int(1))
	m.put(types.String("b"), types.String("x"))
	own := m.cel()
	for _, key := range []ref.Val{types.String("a"), types.String("b"), types.String("zz"), types.Int(1),
		types.Double(1.5), types.NullValue, types.NewDynamicList(types.DefaultTypeAdapter, []string{"a"}),
		types.NewErr("broken"), types.Bool(true)} {
		if got, want := types.Format(m.Get(key)), types.Format(own.Get(key)); got != want {
			t.Errorf("Get(%v) = %s, CEL's own map %s", key, got, want)
		}
		got, found := m.Find(key)
		want, wantFound := own.Find(key)
		if found != wantFound || (got == nil) != (want == nil) || got != nil && types.Format(got) != types.Format(want) {
			t.Errorf("Find(%v) = %v, %v; CEL's own map %v, %v", key, got, found, want, wantFound)
		}
		if got, want := m.Contains(key), own.Contains(key); types.Format(got) != types.Format(want) {
			t.Errorf("Contains(%v) = %v, CEL's own map %v", key, got, want)
		}
	}
}
