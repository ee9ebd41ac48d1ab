package recorder

import (
	"bytes"
	"encoding/json"
	"hash/maphash"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// linkCapacity bounds the link index; the least recently used keys
	// are forgotten first.
	linkCapacity = 50_000
	// weakLinkWindow is how long an e-mail address keeps linking: the
	// same test address is used again and again, but a retry within
	// minutes belongs to the same registration.
	weakLinkWindow = 30 * time.Minute
)

// requestLinkKind names the kind of value a request parameter that links
// carries, "" for the others. The kinds are link key prefixes. It is a
// switch rather than a map: the scanner asks for every key of every
// body, and hashing each key for a lookup cost more than the rest of
// the scan.
func requestLinkKind(name []byte) string {
	switch string(name) {
	case "token":
		return "tok"
	case "access_token":
		return "at"
	case "refresh_token":
		return "rt"
	case "code", "authorization_code":
		return "code"
	case "transaction_id":
		return "tx"
	case "uuid":
		return "uuid"
	case "emailAddress", "signInEmailAddress", "email":
		return "mail"
	}
	return ""
}

// answerLinkKind is requestLinkKind for the answer members that link, at
// any depth (capture_user.uuid, result.email, oauth_token.access_token …).
func answerLinkKind(name []byte) string {
	switch string(name) {
	case "access_token":
		return "at"
	case "refresh_token":
		return "rt"
	case "authorization_code":
		return "code"
	case "transaction_id":
		return "tx"
	case "uuid":
		return "uuid"
	case "email":
		return "mail"
	case "token":
		return "tok"
	}
	return ""
}

// linkSink collects the link values of one exchange, read from the
// clear request and answer, as hashes: the index must not hold tokens in
// clear, and hashing the bytes where they lie spares a string each.
type linkSink struct {
	seed    maphash.Seed
	links   []link
	onegini bool // "data" identifiers link too
	scratch []byte
}

// link is the hash of a value that ties exchanges of one journey
// together, such as "at:<access token>". Tokens, codes, transaction ids
// and uuids are strong: they are issued once. An e-mail address is weak:
// it only links within [weakLinkWindow].
type link struct {
	hash uint64
	weak bool
}

func (s *linkSink) reset(onegini bool) {
	s.links, s.onegini = s.links[:0], onegini
}

// add files one value of kind.
func (s *linkSink) add(kind string, v []byte) {
	v = bytes.TrimSpace(v)
	if len(v) < 4 {
		return // too short to identify anything
	}
	weak := kind == "mail"
	key := append(append(append(s.scratch[:0], kind...), ':'), v...)
	if weak {
		key = lowerInPlace(key, len(kind)+1)
	}
	s.scratch = key
	s.links = append(s.links, link{hash: maphash.Bytes(s.seed, key), weak: weak})
}

// lowerInPlace lower-cases b[from:] as strings.ToLower would.
func lowerInPlace(b []byte, from int) []byte {
	for _, c := range b[from:] {
		if c >= utf8.RuneSelf {
			return append(b[:from], bytes.ToLower(b[from:])...)
		}
	}
	for i := from; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// addJSON files a JSON string (quotes included) as encoding/json would
// decode it.
func (s *linkSink) addJSON(kind string, raw []byte, escaped bool) {
	if !escaped && utf8.Valid(raw) {
		s.add(kind, raw[1:len(raw)-1])
		return
	}
	s.add(kind, jsonString(raw))
}

// jsonString decodes a JSON string as encoding/json does: escapes
// resolved, invalid UTF-8 replaced.
func jsonString(raw []byte) []byte {
	var v string
	_ = json.Unmarshal(raw, &v)
	return []byte(v)
}

// addData files the "data" of an Onegini call when it is an identifier,
// as in the QR-code flow: the backchannel answers a uuid that the app
// sends back as the data of complete.
func (s *linkSink) addData(v []byte) {
	if s.onegini && len(v) >= 8 && len(v) <= 256 && bytes.IndexAny(v, " \t\r\n{}[]\"") < 0 {
		s.add("data", v)
	}
}

// addJSONData is addData for a JSON string (quotes included).
func (s *linkSink) addJSONData(raw []byte) {
	if !s.onegini {
		return
	}
	v := raw[1 : len(raw)-1]
	if hasSpaceOrBracket(v) {
		// Decoding keeps these, and they make it no identifier: JSON
		// carried in a string, as Onegini scripts send it, ends here.
		return
	}
	if bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v) {
		v = jsonString(raw)
	}
	s.addData(v)
}

// hasSpaceOrBracket is bytes.ContainsAny(v, " {}[]") without building
// the byte set on each call.
func hasSpaceOrBracket(v []byte) bool {
	for _, c := range v {
		switch c {
		case ' ', '{', '}', '[', ']':
			return true
		}
	}
	return false
}

// addForm files the linking parameters of a url-encoded string, read as
// url.ParseQuery reads it.
func (s *linkSink) addForm(raw string) {
	if strings.Count(raw, "&") >= maxQueryParams {
		return // url.ParseQuery refuses it all
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		key, value, _ := strings.Cut(pair, "=")
		if name, ok := formKey(key); ok {
			s.addPair(pair, name, value)
		}
	}
}

// formKey unescapes the key of a url-encoded pair as url.ParseQuery
// does; ok is false when it cannot.
func formKey(key string) (name string, ok bool) {
	if !needsUnescape(key) {
		return key, true
	}
	name, err := url.QueryUnescape(key)
	return name, err == nil
}

// needsUnescape reports whether a url-encoded key holds '%' or '+'; keys
// are short, and a plain loop beats strings.ContainsAny's set.
func needsUnescape(key string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] == '%' || key[i] == '+' {
			return true
		}
	}
	return false
}

// addPair adds the link of one url-encoded pair, as url.ParseQuery reads
// it: pairs holding a semicolon are refused.
func (s *linkSink) addPair(pair, name, value string) {
	if pair == "" || strings.Contains(pair, ";") {
		return
	}
	kind := requestLinkKind([]byte(name))
	ok := kind != ""
	if !ok && !(name == "data" && s.onegini) {
		return
	}
	value, err := url.QueryUnescape(value)
	if err != nil {
		return
	}
	if ok {
		s.add(kind, []byte(value))
	} else {
		s.addData([]byte(value))
	}
}

// maxQueryParams is url.ParseQuery's limit on parameters.
const maxQueryParams = 10000

// linkIndex maps link values (hashed: the index must not hold tokens in
// clear) to the flow they belong to. It is an approximate LRU of two
// generations: when the young one is full it becomes the old one, and
// keys used from the old one move back.
type linkIndex struct {
	capacity int
	young    map[uint64]linkEntry
	old      map[uint64]linkEntry
}

type linkEntry struct {
	flow xid
	seen int64 // unix ns of the last exchange that used the key
}

func newLinkIndex(capacity int) *linkIndex {
	li := &linkIndex{capacity: max(capacity, 2)}
	li.reset()
	return li
}

func (li *linkIndex) reset() {
	li.young, li.old = map[uint64]linkEntry{}, map[uint64]linkEntry{}
}

func (li *linkIndex) get(h uint64) (linkEntry, bool) {
	if e, ok := li.young[h]; ok {
		return e, true
	}
	e, ok := li.old[h]
	if ok {
		li.put(h, e)
	}
	return e, ok
}

func (li *linkIndex) put(h uint64, e linkEntry) {
	// Only a full generation needs to know whether h is new in it: the
	// lookup would cost every put a second probe of the map.
	if len(li.young) >= li.capacity/2 {
		if _, ok := li.young[h]; !ok {
			li.old, li.young = li.young, make(map[uint64]linkEntry, li.capacity/2)
		}
	}
	li.young[h] = e
}

// assign finds the flow of exchange id, started at now (unix ns), from
// its links — a strong match first, the most recently active one when
// several match — or starts one, and files every link under it.
func (li *linkIndex) assign(id xid, now int64, links []link) xid {
	flow, ok := li.match(links, now, false)
	if !ok {
		flow, ok = li.match(links, now, true)
	}
	if !ok {
		flow = id
	}
	for _, l := range links {
		li.put(l.hash, linkEntry{flow: flow, seen: now})
	}
	return flow
}

func (li *linkIndex) match(links []link, now int64, weak bool) (xid, bool) {
	var flow xid
	found, seen := false, int64(-1<<63)
	for _, l := range links {
		if l.weak != weak {
			continue
		}
		e, ok := li.get(l.hash)
		if !ok || (weak && now-e.seen > int64(weakLinkWindow)) {
			continue
		}
		if e.seen > seen {
			flow, seen, found = e.flow, e.seen, true
		}
	}
	return flow, found
}
