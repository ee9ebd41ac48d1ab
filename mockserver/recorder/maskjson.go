package recorder

import (
	"encoding/json"
)

// maskedJSON is [Mask] as a JSON string.
var maskedJSON = []byte(`"` + Mask + `"`)

// splice replaces b[start:end] with with.
type splice struct {
	start, end int
	with       []byte
}

// maskJSON masks the values ru covers in a JSON document by splicing
// replacements into the original bytes, so key order, spacing and
// everything else stay as the client sent them. ok is false when nothing
// was masked or b is not valid JSON.
func maskJSON(b []byte, ru rule) ([]byte, bool) {
	if !json.Valid(b) {
		return b, false
	}
	var cuts []splice
	scanValue(b, skipSpace(b, 0), "", ru, &cuts)
	if len(cuts) == 0 {
		return b, false
	}
	out := make([]byte, 0, len(b))
	last := 0
	for _, c := range cuts {
		out = append(out, b[last:c.start]...)
		out = append(out, c.with...)
		last = c.end
	}
	return append(out, b[last:]...), true
}

// scanValue walks the value at b[i] (b is valid JSON), noting the cuts,
// and returns where the value ends. key is the object key the value
// belongs to, inherited by array elements.
func scanValue(b []byte, i int, key string, ru rule, cuts *[]splice) int {
	if ru.masks(key, b[i] == '"') {
		end := scanValue(b, i, "", 0, nil)
		*cuts = append(*cuts, splice{i, end, maskedJSON})
		return end
	}
	switch b[i] {
	case '{':
		return scanObject(b, i, ru, cuts)
	case '[':
		return scanArray(b, i, key, ru, cuts)
	case '"':
		end := stringEnd(b, i)
		if ru != 0 {
			maskNestedJSON(b, i, end, ru, cuts)
		}
		return end
	}
	end := i
	for end < len(b) && !isJSONDelim(b[end]) {
		end++
	}
	return end
}

func scanObject(b []byte, i int, ru rule, cuts *[]splice) int {
	for i++; ; {
		i = skipSpace(b, i)
		switch b[i] {
		case '}':
			return i + 1
		case ',':
			i++
			continue
		}
		keyEnd := stringEnd(b, i)
		key := ""
		if ru != 0 {
			key = unquote(b[i:keyEnd])
		}
		i = skipSpace(b, keyEnd) + 1 // the colon
		i = scanValue(b, skipSpace(b, i), key, ru, cuts)
	}
}

func scanArray(b []byte, i int, key string, ru rule, cuts *[]splice) int {
	for i++; ; {
		i = skipSpace(b, i)
		switch b[i] {
		case ']':
			return i + 1
		case ',':
			i++
			continue
		}
		i = scanValue(b, i, key, ru, cuts)
	}
}

// maskNestedJSON masks JSON carried in the string b[start:end].
func maskNestedJSON(b []byte, start, end int, ru rule, cuts *[]splice) {
	j := start + 1
	for j < end && b[j] == ' ' {
		j++
	}
	// An escaped newline or tab may come first too.
	if j >= end || (b[j] != '{' && b[j] != '[' && b[j] != '\\') {
		return
	}
	inner := unquote(b[start:end])
	masked := maskNested(inner, ru)
	if masked == inner {
		return
	}
	quoted, err := json.Marshal(masked)
	if err == nil {
		*cuts = append(*cuts, splice{start, end, quoted})
	}
}

// stringEnd returns the index just past the string that starts at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

func unquote(raw []byte) string {
	for _, c := range raw[1 : len(raw)-1] {
		if c == '\\' {
			var s string
			_ = json.Unmarshal(raw, &s)
			return s
		}
	}
	return string(raw[1 : len(raw)-1])
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func isJSONDelim(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
