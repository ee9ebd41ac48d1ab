package recorder

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"unicode"
	"unicode/utf8"
)

// maxJSONDepth is encoding/json's nesting limit: a deeper document is not
// valid JSON to it, so it is not to the scanner either.
const maxJSONDepth = 10000

// jsonScan walks a JSON document once. In that one pass it checks the
// document exactly as [json.Valid] does, notes the splices that mask what
// ru covers (see [maskJSON]) and, for the writer, collects link values
// and the answer's "stat" and "error" members. Decoding a body into
// map[string]any for each of these, as the recorder once did, cost more
// than serving the request.
//
// A syntax error sets bad and unwinds; nothing collected is then valid.
type jsonScan struct {
	b     []byte
	ru    rule
	cuts  []splice
	bad   bool
	depth int
	// esc says the string just scanned had a backslash escape; escU
	// that its text holds a backslash followed by "u": a \u escape, or
	// an escaped backslash before a "u", which is a \u escape once the
	// string is unquoted (see [jsonScan.nested]).
	esc, escU bool
	// valid is what run found, for the caller's later use.
	valid bool

	// sink receives link values when not nil: members named in names,
	// strings at any depth (deep, answers; arrays pass their key to their
	// elements) or only top-level strings (requests).
	sink  *linkSink
	names func(key []byte) string
	deep  bool
	// data sends top-level "data" strings to the sink (Onegini calls).
	data bool

	// shape collects the top-level "stat" and "error" members as
	// json.Unmarshal into struct{Stat string; Error json.RawMessage}
	// would: names match case-insensitively and the last one wins.
	shape        bool
	statError    bool // the last string stat is "error"
	statNonEmpty bool // the last string stat is not ""
	statBadType  bool // a stat is neither a string nor null: Unmarshal fails
	hasError     bool // the last error member is not null
}

// keyInfo is what an object key means for its value.
type keyInfo struct {
	mask    bool   // masked whatever its type (passwords)
	maskStr bool   // masked when a string (secrets)
	link    string // link kind of string values, "" for none
}

// reset prepares s for b, keeping its buffers.
func (s *jsonScan) reset(b []byte, ru rule) {
	*s = jsonScan{b: b, ru: ru, cuts: s.cuts[:0]}
}

// run scans the whole document. valid is json.Valid; decodable is what
// json.Decoder plus a More check accepts (the recorder's decodeJSON once
// did): a value, then only spaces or a closing bracket.
func (s *jsonScan) run() (valid, decodable bool) {
	i := skipSpace(s.b, 0)
	if i == len(s.b) {
		return false, false
	}
	end := s.value(i, nil)
	if s.bad {
		return false, false
	}
	rest := skipSpace(s.b, end)
	if rest == len(s.b) {
		return true, true
	}
	return false, s.b[rest] == '}' || s.b[rest] == ']'
}

func (s *jsonScan) fail() int {
	s.bad = true
	return len(s.b)
}

// value scans the value at b[i] and returns where it ends. k is the key
// it belongs to, nil at the top and in arrays under no key.
func (s *jsonScan) value(i int, k *keyInfo) int {
	b := s.b
	if i >= len(b) {
		return s.fail()
	}
	c := b[i]
	if k != nil && s.ru != 0 && (k.mask || k.maskStr && c == '"') {
		// Masked whole. Walk it anyway, without masking, for its end
		// and the links inside (linking reads the clear values).
		ru := s.ru
		s.ru = 0
		end := s.value(i, &keyInfo{link: k.link})
		s.ru = ru
		s.cuts = append(s.cuts, splice{i, end, maskedJSON})
		return end
	}
	switch c {
	case '{':
		return s.object(i)
	case '[':
		return s.array(i, k)
	case '"':
		end := s.str(i)
		if s.bad {
			return end
		}
		if k != nil && k.link != "" && s.sink != nil {
			s.sink.addJSON(k.link, b[i:end], s.esc)
		}
		if s.ru != 0 {
			s.nested(i, end)
		}
		return end
	case 't':
		return s.literal(i, "true")
	case 'f':
		return s.literal(i, "false")
	case 'n':
		return s.literal(i, "null")
	}
	return s.number(i)
}

func (s *jsonScan) literal(i int, lit string) int {
	if len(s.b)-i < len(lit) || string(s.b[i:i+len(lit)]) != lit {
		return s.fail()
	}
	return i + len(lit)
}

// number checks JSON's number grammar.
func (s *jsonScan) number(i int) int {
	b := s.b
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return s.fail()
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return s.fail()
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return s.fail()
		}
		i = j
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

const (
	swarOnes  = 0x0101010101010101
	swarHighs = 0x8080808080808080
)

// str checks the string that starts at b[i] and returns the index just
// past it; s.esc says whether it holds an escape. Eight bytes at a time,
// it skips what cannot end the string or be an error: most of a body is
// strings.
func (s *jsonScan) str(i int) int {
	b := s.b
	s.esc, s.escU = false, false
	j := i + 1
	for {
		for j+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[j:])
			quote := x ^ (swarOnes * '"')
			slash := x ^ (swarOnes * '\\')
			// A byte below 0x20, a quote or a backslash sets its high
			// bit. Borrows only reach the bytes after the first such
			// byte, so the lowest bit set finds it exactly.
			if m := ((x-swarOnes*0x20)&^x | (quote-swarOnes)&^quote | (slash-swarOnes)&^slash) & swarHighs; m != 0 {
				j += bits.TrailingZeros64(m) / 8
				break
			}
			j += 8
		}
		if j >= len(b) {
			return s.fail()
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1
		case c == '\\':
			s.esc = true
			if j+1 >= len(b) {
				return s.fail()
			}
			switch b[j+1] {
			case '\\':
				s.escU = s.escU || j+2 < len(b) && b[j+2] == 'u'
				j += 2
			case 'b', 'f', 'n', 'r', 't', '/', '"':
				j += 2
			case 'u':
				if j+6 > len(b) || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
					return s.fail()
				}
				s.escU = true
				j += 6
			default:
				return s.fail()
			}
		case c < 0x20:
			return s.fail()
		default:
			j++
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func (s *jsonScan) array(i int, k *keyInfo) int {
	if s.depth++; s.depth > maxJSONDepth {
		return s.fail()
	}
	// Elements inherit the key: "token": ["a", "b"] hides both. Only
	// answers link inside arrays.
	var elem *keyInfo
	if k != nil {
		ek := *k
		if !s.deep {
			ek.link = ""
		}
		elem = &ek
	}
	b := s.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		s.depth--
		return i + 1
	}
	for {
		i = s.value(i, elem)
		if s.bad {
			return i
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return s.fail()
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			s.depth--
			return i + 1
		default:
			return s.fail()
		}
	}
}

func (s *jsonScan) object(i int) int {
	if s.depth++; s.depth > maxJSONDepth {
		return s.fail()
	}
	top := s.depth == 1
	b := s.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		s.depth--
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return s.fail()
		}
		keyEnd := s.str(i)
		if s.bad {
			return keyEnd
		}
		key := b[i+1 : keyEnd-1]
		if s.esc {
			key = []byte(unquote(b[i:keyEnd]))
		}
		i = skipSpace(b, keyEnd)
		if i >= len(b) || b[i] != ':' {
			return s.fail()
		}
		i = skipSpace(b, i+1)
		k := s.keyInfo(key, top)
		start := i
		i = s.value(i, &k)
		if s.bad {
			return i
		}
		if top {
			s.member(key, b[start:i])
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return s.fail()
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			s.depth--
			return i + 1
		default:
			return s.fail()
		}
	}
}

func (s *jsonScan) keyInfo(key []byte, top bool) keyInfo {
	var k keyInfo
	if len(key) > 0 {
		k.mask = s.ru&passwords != 0 && containsFold(key, "password")
		k.maskStr = s.ru&secrets != 0 && isSecretKey(key)
	}
	if s.sink != nil && (top || s.deep) {
		k.link = s.names(key)
	}
	return k
}

// member collects what the writer reads from the top-level members.
func (s *jsonScan) member(key, v []byte) {
	if s.data && s.sink != nil && string(key) == "data" && v[0] == '"' {
		s.sink.addJSONData(v)
	}
	if !s.shape {
		return
	}
	switch {
	case foldEqual(key, "STAT"):
		switch v[0] {
		case '"':
			// Only whether it is empty or "error" matters; an escape
			// could spell "error" too.
			s.statNonEmpty = len(v) > 2
			s.statError = string(v) == `"error"` || bytes.IndexByte(v, '\\') >= 0 && unquote(v) == "error"
		case 'n': // null leaves a string field as it was
		default:
			s.statBadType = true
		}
	case foldEqual(key, "ERROR"):
		s.hasError = string(v) != "null"
	}
}

// foldEqual reports whether key matches the upper-case ASCII name the way
// encoding/json matches a field name: ASCII letters ignore case, and
// other runes fold to the smallest of their fold set (the long s "ſ"
// matches "S").
func foldEqual(key []byte, upper string) bool {
	j := 0
	for i := 0; i < len(key); {
		if j >= len(upper) {
			return false
		}
		c := key[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			if c != upper[j] {
				return false
			}
			i, j = i+1, j+1
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		if foldRune(r) != rune(upper[j]) {
			return false
		}
		i, j = i+n, j+1
	}
	return j == len(upper)
}

// foldRune is encoding/json's: the smallest rune of r's fold set.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// nested masks JSON carried in the string b[start:end], such as the
// payload of an Onegini script in "data".
func (s *jsonScan) nested(start, end int) {
	b := s.b
	j := start + 1
	for j < end && b[j] == ' ' {
		j++
	}
	// An escaped newline or tab may come first too.
	if j >= end || (b[j] != '{' && b[j] != '[' && b[j] != '\\') {
		return
	}
	// A key inside can only decode to something holding "password" if
	// the text has the word or a \u escape: other escapes make no
	// letters, and each deeper level of nesting escapes the backslash,
	// which keeps a backslash before the "u" (str notes both in escU).
	if s.ru == passwords && !s.escU && !containsFold(b[start:end], "password") {
		return
	}
	inner := unquote(b[start:end])
	masked := maskNested(inner, s.ru)
	if masked == inner {
		return
	}
	quoted, err := json.Marshal(masked)
	if err == nil {
		s.cuts = append(s.cuts, splice{start, end, quoted})
	}
}

// apply returns b with the cuts spliced in, appended to dst.
func applyCuts(dst, b []byte, cuts []splice) []byte {
	last := 0
	for _, c := range cuts {
		dst = append(dst, b[last:c.start]...)
		dst = append(dst, c.with...)
		last = c.end
	}
	return append(dst, b[last:]...)
}
