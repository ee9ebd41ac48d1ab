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
	var s jsonScan
	s.reset(b, ru)
	if valid, _ := s.run(); !valid || len(s.cuts) == 0 {
		return b, false
	}
	return applyCuts(make([]byte, 0, len(b)), b, s.cuts), true
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

func skipSpace[S ~string | ~[]byte](b S, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
