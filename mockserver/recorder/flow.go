package recorder

import (
	"hash/maphash"
	"strings"
	"time"
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

// link is a value that ties exchanges of one journey together. Tokens,
// codes, transaction ids and uuids are strong: they are issued once. An
// e-mail address is weak: it only links within [weakLinkWindow].
type link struct {
	key  string
	weak bool
}

// Request parameters that link, by the kind of value they carry.
var requestLinks = map[string]string{
	"token": "tok", "access_token": "at", "refresh_token": "rt", "code": "code",
	"authorization_code": "code", "transaction_id": "tx", "uuid": "uuid",
	"emailAddress": "mail", "signInEmailAddress": "mail", "email": "mail",
}

// Answer members that link, at any depth (capture_user.uuid, result.email,
// oauth_token.access_token …).
var answerLinks = map[string]string{
	"access_token": "at", "refresh_token": "rt", "authorization_code": "code",
	"transaction_id": "tx", "uuid": "uuid", "email": "mail", "token": "tok",
}

// linkKeys lists the link values of an exchange, read from the clear
// request and answer.
func linkKeys(ex *Exchange) []link {
	var links []link
	add := func(kind, v string) {
		v = strings.TrimSpace(v)
		if len(v) < 4 {
			return // too short to identify anything
		}
		if kind == "mail" {
			v = strings.ToLower(v)
		}
		links = append(links, link{key: kind + ":" + v, weak: kind == "mail"})
	}
	for name, vals := range ex.Form {
		if kind, ok := requestLinks[name]; ok {
			for _, v := range vals {
				add(kind, v)
			}
		}
	}
	if top, ok := ex.JSON.(map[string]any); ok {
		for name, v := range top {
			if s, ok := v.(string); ok && requestLinks[name] != "" {
				add(requestLinks[name], s)
			}
		}
	}
	if bearer, ok := strings.CutPrefix(headerValue(ex.RequestHeaders, "Authorization"), "Bearer "); ok {
		add("at", bearer)
	}
	walkAnswer(decodeJSON(ex.ResponseBody), "", add)
	if strings.HasPrefix(ex.Endpoint, "onegini.") {
		oneginiData(ex, add)
	}
	return links
}

// walkAnswer adds the linking members of a decoded answer.
func walkAnswer(v any, key string, add func(kind, v string)) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			walkAnswer(x, k, add)
		}
	case []any:
		for _, x := range t {
			walkAnswer(x, key, add)
		}
	case string:
		if kind, ok := answerLinks[key]; ok {
			add(kind, t)
		}
	}
}

// oneginiData links the "data" of Onegini calls when it is an identifier,
// as in the QR-code flow: the backchannel answers a uuid that the app
// sends back as the data of complete.
func oneginiData(ex *Exchange, add func(kind, v string)) {
	var values []string
	if top, ok := ex.JSON.(map[string]any); ok {
		if s, ok := top["data"].(string); ok {
			values = append(values, s)
		}
	}
	values = append(values, ex.Form["data"]...)
	if top, ok := decodeJSON(ex.ResponseBody).(map[string]any); ok {
		if s, ok := top["data"].(string); ok {
			values = append(values, s)
		}
	}
	for _, v := range values {
		if len(v) >= 8 && len(v) <= 256 && !strings.ContainsAny(v, " \t\r\n{}[]\"") {
			add("data", v)
		}
	}
}

// linkIndex maps link values (hashed: the index must not hold tokens in
// clear) to the flow they belong to. It is an approximate LRU of two
// generations: when the young one is full it becomes the old one, and
// keys used from the old one move back.
type linkIndex struct {
	seed     maphash.Seed
	capacity int
	young    map[uint64]linkEntry
	old      map[uint64]linkEntry
}

type linkEntry struct {
	flow string
	seen int64 // unix ns of the last exchange that used the key
}

func newLinkIndex(capacity int) *linkIndex {
	li := &linkIndex{seed: maphash.MakeSeed(), capacity: max(capacity, 2)}
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
	if _, ok := li.young[h]; !ok && len(li.young) >= li.capacity/2 {
		li.old, li.young = li.young, make(map[uint64]linkEntry, li.capacity/2)
	}
	li.young[h] = e
}

// assign finds the flow of ex from its links — a strong match first, the
// most recently active one when several match — or starts one, and files
// every link under it.
func (li *linkIndex) assign(ex *Exchange, links []link) string {
	now := ex.Time.UnixNano()
	hashes := make([]uint64, len(links))
	for i, l := range links {
		hashes[i] = maphash.String(li.seed, l.key)
	}
	flow := li.match(links, hashes, now, false)
	if flow == "" {
		flow = li.match(links, hashes, now, true)
	}
	if flow == "" {
		flow = ex.ID
	}
	for _, h := range hashes {
		li.put(h, linkEntry{flow: flow, seen: now})
	}
	return flow
}

func (li *linkIndex) match(links []link, hashes []uint64, now int64, weak bool) string {
	flow, seen := "", int64(-1<<63)
	for i, l := range links {
		if l.weak != weak {
			continue
		}
		e, ok := li.get(hashes[i])
		if !ok || (weak && now-e.seen > int64(weakLinkWindow)) {
			continue
		}
		if e.seen > seen {
			flow, seen = e.flow, e.seen
		}
	}
	return flow
}
