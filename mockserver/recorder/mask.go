package recorder

import (
	"maps"
	"math/bits"
	"mime"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
)

// Mask replaces every masked value. It needs no escaping in a URL, a form
// or JSON, so a masked body still parses.
const Mask = "***"

// rule says which values a masking pass hides.
type rule uint8

const (
	// passwords: any value under a key that contains "password"; masked
	// before storing, for good.
	passwords rule = 1 << iota
	// secrets: string values of client secrets, tokens and codes, and
	// credential headers; stored, masked on read.
	secrets
	everything = passwords | secrets
)

// masks reports whether the value under key is hidden; str says it is a
// string (secrets are only strings: Capture's numeric error "code" is not
// one).
func (ru rule) masks(key string, str bool) bool {
	if key == "" {
		return false
	}
	if ru&passwords != 0 && containsFold(key, "password") {
		return true
	}
	return ru&secrets != 0 && str && isSecretKey(key)
}

// secretKeys are the exact names of secret parameters; names that
// contain "secret" or end in "token" are secret too.
var secretKeys = []string{"code", "authorization_code", "auth_code", "api_key", "apikey",
	"client_assertion", "authorization", "cookie"}

func isSecretKey[S ~string | ~[]byte](key S) bool {
	if containsFold(key, "secret") || hasSuffixFold(key, "token") {
		return true
	}
	for _, k := range secretKeys {
		if strings.EqualFold(string(key), k) {
			return true
		}
	}
	return false
}

// containsFold is an allocation-free, ASCII case-insensitive
// strings.Contains for lower-case ASCII needles. Only where the first
// byte matches, give or take case, does it compare the rest; those bytes
// are found eight at a time (most header names and keys hold none).
func containsFold[S ~string | ~[]byte](s S, lowerNeedle string) bool {
	if len(lowerNeedle) == 0 {
		return true
	}
	// The needle can only start up to last: the bytes after it are not
	// searched for its first byte.
	last := len(s) - len(lowerNeedle)
	for i := 0; i <= last; i++ {
		if i = indexByteFrom(s[:last+1], i, lowerNeedle[0], 0x20); i < 0 {
			return false
		}
		if hasPrefixFold(s[i:], lowerNeedle) {
			return true
		}
	}
	return false
}

// indexByteFrom is the index of the first byte at or after i that equals
// c once or-ed with fold (0x20 folds an ASCII letter to lower case, 0
// compares bytes as they are), or -1. Eight bytes at a time: a byte
// equal to c becomes zero, and the lowest zero byte of a word is found
// exactly (borrows only reach the bytes above it).
func indexByteFrom[S ~string | ~[]byte](s S, i int, c, fold byte) int {
	pattern, folds := swarOnes*uint64(c), swarOnes*uint64(fold)
	for ; i+8 <= len(s); i += 8 {
		x := load64(s, i) | folds ^ pattern
		if m := (x - swarOnes) &^ x & swarHighs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if s[i]|fold == c {
			return i
		}
	}
	return -1
}

// load64 reads s[i:i+8] as a little-endian word, for strings as for byte
// slices (the compiler makes it one load).
func load64[S ~string | ~[]byte](s S, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func hasPrefixFold[S ~string | ~[]byte](s S, lowerPrefix string) bool {
	if len(s) < len(lowerPrefix) {
		return false
	}
	for j := range len(lowerPrefix) {
		c := s[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lowerPrefix[j] {
			return false
		}
	}
	return true
}

func hasSuffixFold[S ~string | ~[]byte](s S, lowerSuffix string) bool {
	return len(s) >= len(lowerSuffix) && hasPrefixFold(s[len(s)-len(lowerSuffix):], lowerSuffix)
}

// maskExchange hides what ru covers everywhere in ex: URL, headers, bodies
// and their decoded forms.
func maskExchange(ex *Exchange, ru rule) {
	ex.URL = maskURL(ex.URL, ru)
	ex.RequestHeaders = maskHeaders(ex.RequestHeaders, ru)
	ex.ResponseHeaders = maskHeaders(ex.ResponseHeaders, ru)
	ex.RequestBody = maskBody(ex.RequestBody, headerValue(ex.RequestHeaders, "Content-Type"), ru)
	ex.ResponseBody = maskBody(ex.ResponseBody, headerValue(ex.ResponseHeaders, "Content-Type"), ru)
	ex.Form = maskValues(ex.Form, ru)
	if ex.JSON != nil {
		ex.JSON = maskTree("", ex.JSON, ru)
	}
}

func headerValue(h map[string][]string, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// maskURL masks the query of a path-and-query.
func maskURL(u string, ru rule) string {
	path, query, ok := strings.Cut(u, "?")
	if !ok {
		return u
	}
	return path + "?" + maskQuery(query, ru)
}

// maskQuery masks url-encoded pairs in place, keeping their order and
// encoding, so the result reads (and parses) like what was sent. When
// nothing is masked it returns raw without allocating.
func maskQuery(raw string, ru rule) string { return maskForm(raw, ru, nil) }

// maskForm is maskQuery, and when links is not nil it also adds the
// links of the pairs as [linkSink.addForm] does: the writer reads a form
// body once.
func maskForm(raw string, ru rule, links *linkSink) string {
	mark := 0
	if links != nil {
		mark = len(links.links)
	}
	first := -1
	for i, n, rest := 0, 0, raw; ; n++ {
		if n == maxQueryParams && links != nil {
			// url.ParseQuery refuses it all.
			links.links, links = links.links[:mark], nil
		}
		pair, next, more := strings.Cut(rest, "&")
		key, value, _ := strings.Cut(pair, "=")
		name, ok := formKey(key)
		if links != nil && ok {
			links.addPair(pair, name, value)
		}
		if !ok {
			name = key
		}
		if first < 0 && ru.masks(name, true) {
			if first = i; links == nil {
				break
			}
		}
		if !more {
			break
		}
		i, rest = i+len(pair)+1, next
	}
	if first < 0 {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	b.WriteString(raw[:first])
	for i, pair := range strings.Split(raw[first:], "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		if queryKeyMasks(pair, ru) {
			key, _, _ := strings.Cut(pair, "=")
			pair = key + "=" + Mask
		}
		b.WriteString(pair)
	}
	return b.String()
}

// queryKeyMasks reports whether ru masks the value of a url-encoded pair.
func queryKeyMasks(pair string, ru rule) bool {
	key, _, _ := strings.Cut(pair, "=")
	name, err := url.QueryUnescape(key)
	if err != nil {
		name = key
	}
	return ru.masks(name, true)
}

// maskValues returns v with the covered values masked; v itself is left
// alone.
func maskValues(v map[string][]string, ru rule) map[string][]string {
	var out map[string][]string
	for k, vals := range v {
		if !ru.masks(k, true) {
			continue
		}
		if out == nil {
			out = make(map[string][]string, len(v))
			for k2, vals2 := range v {
				out[k2] = vals2
			}
		}
		masked := make([]string, len(vals))
		for i := range masked {
			masked[i] = Mask
		}
		out[k] = masked
	}
	if out == nil {
		return v
	}
	return out
}

// maskHeaders masks credential headers, keeping the scheme of
// Authorization ("Bearer ***") so the reader still sees how the client
// authenticated. v itself is left alone.
func maskHeaders(h map[string][]string, ru rule) map[string][]string {
	var out map[string][]string
	for name, vals := range h {
		masked, ok := maskHeader(name, vals, ru)
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string][]string, len(h))
			for k, v := range h {
				out[k] = v
			}
		}
		out[name] = masked
	}
	if out == nil {
		return h
	}
	return out
}

func maskHeader(name string, vals []string, ru rule) ([]string, bool) {
	key := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	credential := key == "authorization" || key == "proxy_authorization"
	if ru&secrets != 0 && (credential || key == "cookie" || key == "set_cookie") || ru.masks(key, true) {
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = Mask
			if scheme, _, ok := strings.Cut(v, " "); ok && credential {
				out[i] = scheme + " " + Mask
			}
		}
		return out, true
	}
	return nil, false
}

// maskBody masks a raw body according to its content type: url-encoded
// pairs and JSON values are replaced in place; anything else, and
// truncated JSON, goes through patterns that catch key=value and
// "key": value.
func maskBody(body, contentType string, ru rule) string {
	if body == "" {
		return body
	}
	switch bodyKind(contentType, body) {
	case kindForm:
		return maskQuery(body, ru)
	case kindJSON:
		var s jsonScan
		s.reset([]byte(body), ru)
		if valid, _ := s.run(); valid {
			if len(s.cuts) == 0 {
				return body
			}
			return string(applyCuts(make([]byte, 0, len(body)), s.b, s.cuts))
		}
	}
	return maskLoose(body, ru)
}

type kind int

const (
	kindOther kind = iota
	kindForm
	kindJSON
)

// bodyKind tells how a body is read: by its media type, else by its
// first character.
func bodyKind[S ~string | ~[]byte](contentType string, body S) kind {
	if k := mediaKind(contentType); k != kindOther {
		return k
	}
	if t := skipSpace(body, 0); t < len(body) && (body[t] == '{' || body[t] == '[') {
		return kindJSON
	}
	return kindOther
}

// mediaKinds remembers the kind of each content type seen: a server
// sends the same few again and again, and parsing one costs a map. It
// is copied on write (a new type is rare) so that a lookup is a plain
// map read: sync.Map hashed each key through an interface, which cost
// the writer more than the rest of telling a body's kind.
var (
	mediaKinds   atomic.Pointer[map[string]kind]
	mediaKindsMu sync.Mutex // serializes the copies
)

// maxMediaKinds bounds mediaKinds; past it types are parsed each time.
const maxMediaKinds = 256

func mediaKind(contentType string) kind {
	if contentType == "" {
		return kindOther
	}
	known := mediaKinds.Load()
	if known != nil {
		if k, ok := (*known)[contentType]; ok {
			return k
		}
	}
	k := kindOther
	mt, _, err := mime.ParseMediaType(contentType)
	switch {
	case err == nil && mt == "application/x-www-form-urlencoded":
		k = kindForm
	case err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")):
		k = kindJSON
	}
	if known == nil || len(*known) < maxMediaKinds {
		rememberMediaKind(contentType, k)
	}
	return k
}

// rememberMediaKind adds contentType to mediaKinds unless it is full.
func rememberMediaKind(contentType string, k kind) {
	mediaKindsMu.Lock()
	defer mediaKindsMu.Unlock()
	old := map[string]kind{}
	if known := mediaKinds.Load(); known != nil {
		old = *known
	}
	if len(old) >= maxMediaKinds {
		return
	}
	next := make(map[string]kind, len(old)+1)
	maps.Copy(next, old)
	next[contentType] = k
	mediaKinds.Store(&next)
}

// Patterns for bodies that do not parse. Values may be cut off by the
// body cap, hence the optional closing quote.
var (
	loosePasswordJSON = regexp.MustCompile(`(?i)("(?:[^"\\]|\\.)*password(?:[^"\\]|\\.)*"\s*:\s*)(?:"(?:[^"\\]|\\.)*"?|[^,}\]\s]+)`)
	loosePasswordForm = regexp.MustCompile(`(?i)((?:^|[&?\s])[^=&\s"]*password[^=&\s"]*=)[^&\s]*`)
	looseSecretJSON   = regexp.MustCompile(`(?i)("(?:[^"\\]*secret[^"\\]*|[^"\\]*token|code|authorization_code|auth_code|api_?key|client_assertion)"\s*:\s*)"(?:[^"\\]|\\.)*"?`)
	looseSecretForm   = regexp.MustCompile(`(?i)((?:^|[&?\s])(?:[^=&\s"]*secret[^=&\s"]*|[^=&\s"]*token|code|authorization_code|auth_code|api_?key|client_assertion)=)[^&\s]*`)
)

func maskLoose(body string, ru rule) string {
	if ru&passwords != 0 && containsFold(body, "password") {
		body = loosePasswordJSON.ReplaceAllString(body, `${1}"`+Mask+`"`)
		body = loosePasswordForm.ReplaceAllString(body, "${1}"+Mask)
	}
	if ru&secrets != 0 {
		body = looseSecretJSON.ReplaceAllString(body, `${1}"`+Mask+`"`)
		body = looseSecretForm.ReplaceAllString(body, "${1}"+Mask)
	}
	return body
}

// maskTree returns a copy of a decoded JSON value with the covered values
// masked; v is left alone, as callers may share it.
func maskTree(key string, v any, ru rule) any {
	_, str := v.(string)
	if ru.masks(key, str) {
		return Mask
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = maskTree(k, x, ru)
		}
		return out
	case []any:
		// Elements inherit the key: "token": ["a", "b"] hides both.
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = maskTree(key, x, ru)
		}
		return out
	case string:
		return maskNested(t, ru)
	}
	return v
}

// maskNested masks JSON carried inside a string, such as the payload of an
// Onegini script in "data".
func maskNested(s string, ru rule) string {
	if t := skipSpace(s, 0); t == len(s) || (s[t] != '{' && s[t] != '[') {
		return s
	}
	if masked, ok := maskJSON([]byte(s), ru); ok {
		return string(masked)
	}
	return s
}
