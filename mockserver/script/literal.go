package script

import (
	"fmt"
	"reflect"

	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"
)

// maxLiteralEntries is the most entries a map literal may have to be built
// as a literalMap; larger ones keep CEL's own map.
const maxLiteralEntries = 8

// literalMaps is a planner decorator that builds the map literals of a
// script whose entries are not all constants (CEL folds those once) as
// literalMaps instead of Go maps. A registration script's result is such
// literals ({"status": 2000, "responsePayload": id, "cache": {...}}), and
// CEL's map literal cost three allocations and a hashed insert per entry:
// half of a QR backchannel run went there. Literals with optional entries
// (`?key: value`) are left to CEL, as are those of more than
// maxLiteralEntries entries.
func literalMaps(expr celast.Expr, adapter types.Adapter) interpreter.InterpretableDecoratorV2 {
	withOptionals := map[int64]bool{}
	celast.PreOrderVisit(expr, celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() != celast.MapKind {
			return
		}
		for _, entry := range e.AsMap().Entries() {
			if entry.AsMapEntry().IsOptional() {
				withOptionals[e.ID()] = true
			}
		}
	}))
	return func(i interpreter.InterpretableV2) (interpreter.InterpretableV2, error) {
		c, ok := i.(interpreter.InterpretableConstructor)
		if !ok || c.Type() != types.MapType || withOptionals[i.ID()] {
			return i, nil
		}
		init := c.InitVals()
		if len(init) == 0 || len(init)%2 != 0 || len(init)/2 > maxLiteralEntries || allConst(init) {
			return i, nil
		}
		n := &literalMapNode{id: i.ID(), adapter: adapter, entries: len(init) / 2}
		for k := range n.entries {
			n.keys[k], n.vals[k] = init[2*k], init[2*k+1]
		}
		return n, nil
	}
}

// allConst reports whether every node is a constant.
func allConst(nodes []interpreter.InterpretableV2) bool {
	for _, n := range nodes {
		if _, ok := n.(interpreter.InterpretableConst); !ok {
			return false
		}
	}
	return true
}

// literalMapNode evaluates a map literal into a literalMap. It follows
// CEL's own map literal step for step: keys and values in order, the
// first error returned at once, unknowns merged, a repeated key keeping
// its last value, the creation charged to the cost tracker.
type literalMapNode struct {
	id         int64
	adapter    types.Adapter
	entries    int
	keys, vals [maxLiteralEntries]interpreter.InterpretableV2
}

// ID implements interpreter.Interpretable.
func (n *literalMapNode) ID() int64 { return n.id }

// Eval implements interpreter.Interpretable.
func (n *literalMapNode) Eval(act interpreter.Activation) ref.Val {
	return interpreter.EvalActivation(act, n.Exec)
}

// InitVals implements interpreter.InterpretableConstructor: keys and
// values in turn, as CEL's map literal lists them.
func (n *literalMapNode) InitVals() []interpreter.InterpretableV2 {
	out := make([]interpreter.InterpretableV2, 0, 2*n.entries)
	for i := range n.entries {
		out = append(out, n.keys[i], n.vals[i])
	}
	return out
}

// Type implements interpreter.InterpretableConstructor.
func (n *literalMapNode) Type() ref.Type { return types.MapType }

// Exec implements interpreter.InterpretableV2.
func (n *literalMapNode) Exec(frame *interpreter.ExecutionFrame) ref.Val {
	m := newLiteralMap(n.adapter, n.entries)
	var unknown *types.Unknown
	// other takes every entry from the first key that is not a string
	// on: such a map is CEL's own.
	var other map[ref.Val]ref.Val
	for i := range n.entries {
		key := n.keys[i].Exec(frame)
		if err, ok := key.(*types.Err); ok {
			return err
		}
		unknown = mergeUnknown(unknown, key)
		val := n.vals[i].Exec(frame)
		if err, ok := val.(*types.Err); ok {
			return err
		}
		unknown = mergeUnknown(unknown, val)
		if _, ok := key.(types.String); ok && other == nil {
			m.put(key, val)
			continue
		}
		if other == nil {
			other = m.goMap()
		}
		other[key] = val
	}
	var res ref.Val = m
	switch {
	case unknown != nil:
		res = unknown
	case other != nil:
		res = types.NewRefValMap(n.adapter, other)
	}
	if costs := frame.CostTracker(); costs != nil {
		costs.CreateMap(n.id, res)
	}
	return res
}

// mergeUnknown adds v to u when v is unknown.
func mergeUnknown(u *types.Unknown, v ref.Val) *types.Unknown {
	vu, ok := v.(*types.Unknown)
	switch {
	case !ok:
		return u
	case u == nil:
		return vu
	}
	return types.MergeUnknowns(u, vu)
}

// literalMap is a map with string keys that a map literal built: its
// entries in order, looked up by comparing keys, as a handful of entries
// is quicker to scan than to hash. It answers lookups by string itself;
// everything else (iteration, conversion, equality, lookups by other
// keys and their errors) it hands to CEL's own map of the same entries,
// so it behaves as that map does; only CEL's error for a map used as a
// key names the Go type, literalMap. It is never changed once built.
type literalMap struct {
	adapter types.Adapter
	// entries are in the array allocated with the map (see
	// newLiteralMap). Their keys are types.String, kept as the ref.Val
	// the key's node gave: boxing the string again would allocate.
	entries []literalEntry
}

type literalEntry struct{ key, val ref.Val }

// newLiteralMap returns an empty literalMap with room for n entries, in
// one allocation of about the size they need: four maps of a result
// took 1.1 KB a run at one size for all, and the garbage collector's
// work grows with the bytes.
func newLiteralMap(adapter types.Adapter, n int) *literalMap {
	var m *literalMap
	switch {
	case n <= 1:
		s := &struct {
			literalMap
			room [1]literalEntry
		}{}
		s.entries, m = s.room[:0], &s.literalMap
	case n <= 2:
		s := &struct {
			literalMap
			room [2]literalEntry
		}{}
		s.entries, m = s.room[:0], &s.literalMap
	case n <= 4:
		s := &struct {
			literalMap
			room [4]literalEntry
		}{}
		s.entries, m = s.room[:0], &s.literalMap
	default:
		m = &literalMap{entries: make([]literalEntry, 0, n)}
	}
	m.adapter = adapter
	return m
}

var (
	_ traits.Mapper   = (*literalMap)(nil)
	_ traits.Foldable = (*literalMap)(nil)
	_ traits.Zeroer   = (*literalMap)(nil)

	_ types.AggregateSizeVisitor = (*literalMap)(nil)
)

// put sets key, a types.String, to val, in place when key is there
// already.
func (m *literalMap) put(key ref.Val, val ref.Val) {
	if i := m.index(key.(types.String)); i >= 0 {
		m.entries[i].val = val
		return
	}
	m.entries = append(m.entries, literalEntry{key, val})
}

// index is where key is, or -1.
func (m *literalMap) index(key types.String) int { return indexOf(m.entries, key) }

// indexOf is where key is among entries, whose keys are types.String,
// or -1.
func indexOf(entries []literalEntry, key types.String) int {
	for i := range entries {
		if entries[i].key.(types.String) == key {
			return i
		}
	}
	return -1
}

// goMap copies the entries into a Go map.
func (m *literalMap) goMap() map[ref.Val]ref.Val {
	out := make(map[ref.Val]ref.Val, len(m.entries))
	for _, e := range m.entries {
		out[e.key] = e.val
	}
	return out
}

// cel is CEL's own map of the same entries.
func (m *literalMap) cel() traits.Mapper { return types.NewRefValMap(m.adapter, m.goMap()) }

// each calls fn with each entry in order until it fails.
func (m *literalMap) each(fn func(k, v ref.Val) error) error {
	for _, e := range m.entries {
		if err := fn(e.key, e.val); err != nil {
			return err
		}
	}
	return nil
}

// Find implements traits.Mapper.
func (m *literalMap) Find(key ref.Val) (ref.Val, bool) {
	if s, ok := key.(types.String); ok {
		if i := m.index(s); i >= 0 {
			return m.entries[i].val, true
		}
		return nil, false
	}
	return m.cel().Find(key)
}

// Get implements traits.Indexer.
func (m *literalMap) Get(key ref.Val) ref.Val {
	if v, found := m.Find(key); found {
		return v
	}
	return m.cel().Get(key) // CEL's own error for the key
}

// Contains implements traits.Container.
func (m *literalMap) Contains(key ref.Val) ref.Val {
	if s, ok := key.(types.String); ok {
		return types.Bool(m.index(s) >= 0)
	}
	return m.cel().Contains(key)
}

// Size implements traits.Sizer.
func (m *literalMap) Size() ref.Val { return types.Int(len(m.entries)) }

// IsZeroValue implements traits.Zeroer.
func (m *literalMap) IsZeroValue() bool { return len(m.entries) == 0 }

// Iterator implements traits.Iterable.
func (m *literalMap) Iterator() traits.Iterator { return m.cel().Iterator() }

// Fold implements traits.Foldable.
func (m *literalMap) Fold(f traits.Folder) { m.cel().(traits.Foldable).Fold(f) }

// AggregateSize implements types.AggregateSizeVisitor, for CEL's memory
// tracking.
func (m *literalMap) AggregateSize(sizer types.AggregateSizer) uint32 {
	return m.cel().(types.AggregateSizeVisitor).AggregateSize(sizer)
}

// ConvertToNative implements ref.Val.
func (m *literalMap) ConvertToNative(typeDesc reflect.Type) (any, error) {
	return m.cel().ConvertToNative(typeDesc)
}

// ConvertToType implements ref.Val.
func (m *literalMap) ConvertToType(typeVal ref.Type) ref.Val {
	if typeVal == types.MapType {
		return m
	}
	return m.cel().ConvertToType(typeVal)
}

// Equal implements ref.Val.
func (m *literalMap) Equal(other ref.Val) ref.Val { return m.cel().Equal(other) }

// Type implements ref.Val.
func (m *literalMap) Type() ref.Type { return types.MapType }

// Value implements ref.Val: the Go map CEL's own map would hold.
func (m *literalMap) Value() any { return m.goMap() }

// String formats the map as CEL's own map does.
func (m *literalMap) String() string { return m.cel().(fmt.Stringer).String() }
