package script

import (
	"strconv"
	"unicode/utf8"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// decodeJSONFast decodes the JSON that scripts see on nearly every call —
// a small object of plain strings, numbers and literals — without
// encoding/json's decoder, whose reader, buffers and scanner states were a
// quarter of the QR-code script's run. It answers ok=false, and the caller
// falls back to encoding/json, on anything it does not decode exactly as
// [DecodeJSON] would: escapes in strings, control characters, invalid
// UTF-8, deep nesting and every syntax error (so that the error message is
// encoding/json's). FuzzDecodeJSONFast holds the two to the same answers.
func decodeJSONFast(s string) (v any, ok bool) {
	d := fastDecoder{s: s}
	v, ok = d.value(0)
	if !ok {
		return nil, false
	}
	d.skipSpace()
	return v, d.i == len(d.s)
}

// decodeCELFast is decodeJSONFast with the values a script sees: the
// payload variable decoded straight into CEL's values, objects of a
// few members as literalMaps, instead of Go maps that CEL then wraps and
// converts on every read. It takes and leaves the same documents, and
// its values are equal to those CEL makes of decodeJSONFast's
// (FuzzDecodeCELFast).
func decodeCELFast(s string) (ref.Val, bool) {
	d := fastDecoder{s: s, cel: true}
	v, ok := d.value(0)
	if !ok {
		return nil, false
	}
	d.skipSpace()
	return v.(ref.Val), d.i == len(d.s)
}

// maxFastDepth is the nesting the fast decoder follows before it leaves
// the document to encoding/json.
const maxFastDepth = 64

type fastDecoder struct {
	s string
	i int
	// cel makes the decoder's values CEL's (see decodeCELFast).
	cel bool
}

func (d *fastDecoder) skipSpace() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) value(depth int) (any, bool) {
	d.skipSpace()
	if d.i >= len(d.s) || depth > maxFastDepth {
		return nil, false
	}
	switch c := d.s[d.i]; {
	case c == '{' && d.cel:
		return d.celObject(depth)
	case c == '{':
		return d.object(depth)
	case c == '[' && d.cel:
		return d.celArray(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		text, ok := d.str()
		switch {
		case !ok:
			return nil, false
		case d.cel:
			return types.String(text), true
		}
		return text, true
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	for _, lit := range [...]struct {
		text       string
		value, cel any
	}{{"true", true, types.True}, {"false", false, types.False}, {"null", nil, types.NullValue}} {
		if len(d.s)-d.i >= len(lit.text) && d.s[d.i:d.i+len(lit.text)] == lit.text {
			d.i += len(lit.text)
			if d.cel {
				return lit.cel, true
			}
			return lit.value, true
		}
	}
	return nil, false
}

// members reads an object's members after its '{' up to its '}',
// handing each to add.
func (d *fastDecoder) members(depth int, add func(key string, v any)) bool {
	d.i++ // {
	d.skipSpace()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return true
	}
	for {
		d.skipSpace()
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return false
		}
		key, ok := d.str()
		if !ok {
			return false
		}
		d.skipSpace()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return false
		}
		d.i++
		v, ok := d.value(depth + 1)
		if !ok {
			return false
		}
		add(key, v)
		if done, ok := d.next('}'); !ok || done {
			return ok
		}
	}
}

// elements reads an array's elements after its '[' up to its ']',
// handing each to add.
func (d *fastDecoder) elements(depth int, add func(v any)) bool {
	d.i++ // [
	d.skipSpace()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return true
	}
	for {
		v, ok := d.value(depth + 1)
		if !ok {
			return false
		}
		add(v)
		if done, ok := d.next(']'); !ok || done {
			return ok
		}
	}
}

func (d *fastDecoder) object(depth int) (any, bool) {
	m := map[string]any{}
	ok := d.members(depth, func(key string, v any) { m[key] = v })
	return m, ok
}

func (d *fastDecoder) array(depth int) (any, bool) {
	list := []any{}
	ok := d.elements(depth, func(v any) { list = append(list, v) })
	return list, ok
}

// celObject reads an object as a CEL map: a literalMap of its members
// when they are few, else CEL's own map.
func (d *fastDecoder) celObject(depth int) (any, bool) {
	var members memberList
	if !d.members(depth, members.add) {
		return nil, false
	}
	if members.many != nil {
		return types.NewRefValMap(types.DefaultTypeAdapter, members.many), true
	}
	m := newLiteralMap(types.DefaultTypeAdapter, members.n)
	m.entries = append(m.entries, members.room[:members.n]...)
	return m, true
}

// memberList collects an object's members for celObject, on the stack
// while they are few. A later member of the same name replaces the
// earlier one, as encoding/json has it.
type memberList struct {
	room [maxLiteralEntries]literalEntry
	n    int
	many map[ref.Val]ref.Val
}

func (l *memberList) add(key string, v any) {
	k, val := types.String(key), v.(ref.Val)
	if l.many != nil {
		l.many[k] = val
		return
	}
	if i := indexOf(l.room[:l.n], k); i >= 0 {
		l.room[i].val = val
		return
	}
	if l.n < len(l.room) {
		l.room[l.n] = literalEntry{k, val}
		l.n++
		return
	}
	l.many = make(map[ref.Val]ref.Val, 2*len(l.room))
	for _, e := range l.room {
		l.many[e.key] = e.val
	}
	l.many[k] = val
}

// celArray reads an array as a CEL list.
func (d *fastDecoder) celArray(depth int) (any, bool) {
	list := []ref.Val{}
	ok := d.elements(depth, func(v any) { list = append(list, v.(ref.Val)) })
	return types.NewRefValList(types.DefaultTypeAdapter, list), ok
}

// next reads what follows a member or element: a comma (another one
// comes) or closer (done). ok is false for anything else.
func (d *fastDecoder) next(closer byte) (done, ok bool) {
	d.skipSpace()
	if d.i >= len(d.s) {
		return false, false
	}
	switch d.s[d.i] {
	case ',':
		d.i++
		return false, true
	case closer:
		d.i++
		return true, true
	}
	return false, false
}

// str reads a string without escapes or control characters; anything
// else is left to encoding/json.
func (d *fastDecoder) str() (string, bool) {
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.s); j++ {
		switch c := d.s[j]; {
		case c == '"':
			d.i = j + 1
			text := d.s[start:j]
			if !ascii && !utf8.ValidString(text) {
				return "", false // encoding/json replaces invalid bytes
			}
			return text, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// number reads a number as JSON's grammar has it, and converts it as
// [decodeNumber] does.
func (d *fastDecoder) number() (any, bool) {
	start, j := d.i, d.i
	digits := func() int {
		n := 0
		for j < len(d.s) && d.s[j] >= '0' && d.s[j] <= '9' {
			j++
			n++
		}
		return n
	}
	if d.s[j] == '-' {
		j++
	}
	if j < len(d.s) && d.s[j] == '0' {
		j++
	} else if digits() == 0 {
		return nil, false
	}
	integer := true
	if j < len(d.s) && d.s[j] == '.' {
		j++
		integer = false
		if digits() == 0 {
			return nil, false
		}
	}
	if j < len(d.s) && (d.s[j] == 'e' || d.s[j] == 'E') {
		j++
		integer = false
		if j < len(d.s) && (d.s[j] == '+' || d.s[j] == '-') {
			j++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	d.i = j
	text := d.s[start:j]
	if integer {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			if d.cel {
				return types.Int(n), true
			}
			return n, true
		}
	}
	f, _ := strconv.ParseFloat(text, 64)
	if d.cel {
		return types.Double(f), true
	}
	return f, true
}
