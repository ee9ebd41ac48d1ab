package script

import (
	"strconv"
	"unicode/utf8"
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

// maxFastDepth is the nesting the fast decoder follows before it leaves
// the document to encoding/json.
const maxFastDepth = 64

type fastDecoder struct {
	s string
	i int
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
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		if text, ok := d.str(); ok {
			return text, true
		}
		return nil, false
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	for _, lit := range [...]struct {
		text  string
		value any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if len(d.s)-d.i >= len(lit.text) && d.s[d.i:d.i+len(lit.text)] == lit.text {
			d.i += len(lit.text)
			return lit.value, true
		}
	}
	return nil, false
}

func (d *fastDecoder) object(depth int) (any, bool) {
	d.i++ // {
	m := map[string]any{}
	d.skipSpace()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return m, true
	}
	for {
		d.skipSpace()
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return nil, false
		}
		key, ok := d.str()
		if !ok {
			return nil, false
		}
		d.skipSpace()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return nil, false
		}
		d.i++
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		m[key] = v
		if done, ok := d.next('}'); !ok || done {
			return m, ok
		}
	}
}

func (d *fastDecoder) array(depth int) (any, bool) {
	d.i++ // [
	list := []any{}
	d.skipSpace()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return list, true
	}
	for {
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		list = append(list, v)
		if done, ok := d.next(']'); !ok || done {
			return list, ok
		}
	}
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
			return n, true
		}
	}
	f, _ := strconv.ParseFloat(text, 64)
	return f, true
}
