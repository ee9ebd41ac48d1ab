package script

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// maxJSONDepth bounds the nesting json.encode and result conversion follow.
// encoding/json stops decoding at 10000 levels; values that deep cannot be
// built by a script within its cost budget, so this is only a guard.
const maxJSONDepth = 10000

// DecodeJSON parses one JSON value into the Go values CEL handles natively:
// objects become map[string]any, arrays []any, strings string, booleans
// bool and null nil. A number written as an integer literal (no fraction, no
// exponent) that fits in int64 becomes int64, any other number float64, so
// `payload.count + 1` works in a script, while `1.0` stays a double.
//
// It is what the payload variable and json.decode use; callers can use it to
// load cache values so a script sees them exactly as it stored them.
func DecodeJSON(s string) (any, error) {
	if v, ok := decodeJSONFast(s); ok {
		return v, nil
	}
	return decodeJSONSlow(s)
}

// decodeCEL is [DecodeJSON] with CEL's values, as the payload variable
// and json.decode give them to a script.
func decodeCEL(s string) (ref.Val, error) {
	if v, ok := decodeCELFast(s); ok {
		return v, nil
	}
	v, err := decodeJSONSlow(s)
	if err != nil {
		return nil, err
	}
	return types.DefaultTypeAdapter.NativeToValue(v), nil
}

// decodeJSONSlow is [DecodeJSON] through encoding/json, for what the fast
// decoder leaves to it.
func decodeJSONSlow(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	// Only white space may follow; looking at the rest is cheaper than
	// asking the decoder for another token.
	if strings.TrimLeft(s[dec.InputOffset():], " \t\r\n") != "" {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return normalizeNumbers(v), nil
}

// normalizeNumbers replaces json.Number values in place (see DecodeJSON).
func normalizeNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		return decodeNumber(v)
	case map[string]any:
		for k, e := range v {
			v[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = normalizeNumbers(e)
		}
	}
	return v
}

// decodeNumber turns an integer literal into int64 when it fits, and
// everything else into float64.
func decodeNumber(n json.Number) any {
	if !strings.ContainsAny(string(n), ".eE") {
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return i
		}
	}
	// The decoder has validated the literal; ParseFloat saturates to ±Inf
	// only for magnitudes beyond float64, which is the best available.
	f, _ := strconv.ParseFloat(string(n), 64)
	return f
}

// appendJSON appends the compact JSON encoding of v to b. Map keys are
// sorted; timestamps, durations and bytes are encoded as strings the way
// CEL's own JSON conversion does. Optionals, types and NaN/Inf are refused
// because JSON has no faithful representation for them.
func appendJSON(b []byte, v ref.Val, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return b, errors.New("value nested too deeply")
	}
	switch v := v.(type) {
	case types.Null:
		return append(b, "null"...), nil
	case types.Bool:
		return strconv.AppendBool(b, bool(v)), nil
	case types.Int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case types.Uint:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case types.Double:
		return appendFloat(b, float64(v))
	case types.String:
		return appendString(b, string(v)), nil
	case types.Bytes:
		return appendString(b, base64.StdEncoding.EncodeToString(v)), nil
	case types.Timestamp:
		return appendString(b, formatTimestamp(v.Time)), nil
	case types.Duration:
		return appendString(b, formatDuration(v.Duration)), nil
	case traits.Mapper:
		return appendMap(b, v, depth)
	case traits.Lister:
		return appendList(b, v, depth)
	}
	return b, fmt.Errorf("cannot encode a value of type %s", v.Type().TypeName())
}

// appendList appends a JSON array.
func appendList(b []byte, l traits.Lister, depth int) ([]byte, error) {
	b = append(b, '[')
	var err error
	for i, it := 0, l.Iterator(); it.HasNext() == types.True; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendJSON(b, it.Next(), depth+1); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// appendMap appends a JSON object with its keys in sorted order.
func appendMap(b []byte, m traits.Mapper, depth int) ([]byte, error) {
	var buf [16]mapEntry // keeps small maps off the heap
	entries, err := sortedEntries(m, buf[:0])
	if err != nil {
		return b, err
	}
	b = append(b, '{')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, e.key)
		b = append(b, ':')
		if b, err = appendJSON(b, e.val, depth+1); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// mapEntry is one entry of a map with string keys.
type mapEntry struct {
	key string
	val ref.Val
}

// sortedEntries appends the entries of m to buf in key order. The keys
// must all be strings: JSON objects and the registration API have no
// other kind.
func sortedEntries(m traits.Mapper, buf []mapEntry) ([]mapEntry, error) {
	entries := buf
	err := forEachEntry(m, func(k, v ref.Val) error {
		s, ok := k.(types.String)
		if !ok {
			return fmt.Errorf("map keys must be strings, got %s", describe(k))
		}
		entries = append(entries, mapEntry{string(s), v})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(entries, func(a, b mapEntry) int { return strings.Compare(a.key, b.key) })
	return entries, nil
}

// appendFloat formats f exactly as encoding/json does (ES6 number style).
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("cannot encode %v: JSON has no NaN or infinity", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Turn e-09 into e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// appendString appends s as a JSON string. Unlike encoding/json it leaves
// <, > and & alone: the output is an API payload, not HTML.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		// Invalid UTF-8 becomes U+FFFD; U+2028 and U+2029 are escaped
		// because they end lines in JavaScript.
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			switch r {
			case utf8.RuneError:
				b = append(b, `\ufffd`...)
			default:
				b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// formatTimestamp renders t the way CEL's JSON conversion does.
func formatTimestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// formatDuration renders d in the protobuf JSON form, e.g. "1.5s".
func formatDuration(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// toNative converts a CEL value into the JSON-like Go values DecodeJSON
// produces (plus uint64), so values a script stores in the cache round-trip
// through JSON unchanged.
func toNative(v ref.Val, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("value nested too deeply")
	}
	switch v := v.(type) {
	case types.Null:
		return nil, nil
	case types.Bool:
		return bool(v), nil
	case types.Int:
		return int64(v), nil
	case types.Uint:
		return uint64(v), nil
	case types.Double:
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("cannot store %v: JSON has no NaN or infinity", f)
		}
		return float64(v), nil
	case types.String:
		return string(v), nil
	case types.Bytes:
		return base64.StdEncoding.EncodeToString(v), nil
	case types.Timestamp:
		return formatTimestamp(v.Time), nil
	case types.Duration:
		return formatDuration(v.Duration), nil
	case traits.Mapper:
		return mapToNative(v, depth)
	case traits.Lister:
		return listToNative(v, depth)
	}
	return nil, fmt.Errorf("cannot store a value of type %s", v.Type().TypeName())
}

// listToNative converts a CEL list into []any.
func listToNative(l traits.Lister, depth int) ([]any, error) {
	out := make([]any, 0, int(l.Size().(types.Int)))
	for it := l.Iterator(); it.HasNext() == types.True; {
		e, err := toNative(it.Next(), depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// mapToNative converts a CEL map with string keys into map[string]any.
func mapToNative(m traits.Mapper, depth int) (map[string]any, error) {
	out := make(map[string]any, int(m.Size().(types.Int)))
	err := forEachEntry(m, func(k, v ref.Val) error {
		s, ok := k.(types.String)
		if !ok {
			return fmt.Errorf("map keys must be strings, got %s", describe(k))
		}
		e, err := toNative(v, depth+1)
		if err != nil {
			return err
		}
		out[string(s)] = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// describe renders a value for an error message: short scalars literally,
// containers by kind, so a message never dumps a whole payload.
func describe(v ref.Val) string {
	switch v := v.(type) {
	case types.Null:
		return "null"
	case types.String:
		s := string(v)
		if utf8.RuneCountInString(s) > 40 {
			s = string([]rune(s)[:40]) + "…"
		}
		return strconv.Quote(s)
	case types.Bool, types.Int:
		return fmt.Sprint(v.Value())
	case types.Uint:
		return fmt.Sprintf("%du", uint64(v))
	case types.Double:
		// Written as a CEL literal so 2000.0 is not mistaken for an int.
		s := strconv.FormatFloat(float64(v), 'g', -1, 64)
		if !strings.ContainsAny(s, ".eIN") {
			s += ".0"
		}
		return s
	case traits.Mapper:
		return "a map"
	case traits.Lister:
		return "a list"
	}
	return "a value of type " + v.Type().TypeName()
}
