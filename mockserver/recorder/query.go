package recorder

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"
)

// Paging bounds of [Query.Limit].
const (
	DefaultPage = 50
	MaxPage     = 1000
)

// Query selects exchanges, newest first. Empty fields match everything.
type Query struct {
	// Endpoint is an endpoint id; a trailing "*" matches a prefix
	// ("capture.*").
	Endpoint string `json:"endpoint,omitempty"`
	Status   int    `json:"status,omitempty"`
	Outcome  string `json:"outcome,omitempty"`
	// Text is a case-insensitive substring of the URL, a body or a
	// header ("Name: value"), searched in what the caller may see: with
	// secrets masked unless Reveal is set.
	Text   string `json:"text,omitempty"`
	FlowID string `json:"flow_id,omitempty"`
	// Before is the cursor of the next page: only exchanges whose ID is
	// less are listed.
	Before string `json:"before,omitempty"`
	// Limit is the page size: DefaultPage when zero, at most MaxPage.
	Limit  int  `json:"limit,omitempty"`
	Reveal bool `json:"reveal,omitempty"`
}

// Page is one page of a listing.
type Page struct {
	Exchanges []Exchange `json:"exchanges"`
	// Next is the Before of the next page, empty on the last one.
	Next string `json:"next,omitempty"`
	// Total is how many exchanges are stored, matching or not.
	Total int `json:"total"`
}

// Count returns how many exchanges are stored.
func (r *Recorder) Count() int {
	r.Flush()
	return int(r.stored.Load())
}

// Get returns one exchange, masked unless reveal is set.
func (r *Recorder) Get(id string, reveal bool) (Exchange, bool, error) {
	r.Flush()
	var ex Exchange
	var found bool
	err := r.db.Badger().View(func(txn *badger.Txn) error {
		var err error
		found, err = loadFull(txn, id, &ex, newBlobReader(txn))
		return err
	})
	if found && !reveal {
		maskExchange(&ex, everything)
	}
	return ex, found, err
}

func loadFull(txn *badger.Txn, id string, ex *Exchange, blobs *blobReader) (bool, error) {
	item, err := txn.Get([]byte(keyFull + id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, item.Value(func(raw []byte) error { return decodeRecord(id, raw, ex, blobs) })
}

// List returns a page of the exchanges q selects, newest first.
func (r *Recorder) List(q Query) (Page, error) {
	r.Flush()
	page := Page{Exchanges: []Exchange{}, Total: int(r.stored.Load())}
	err := r.db.Badger().View(func(txn *badger.Txn) error {
		var err error
		blobs := newBlobReader(txn)
		page.Next, err = r.walk(txn, q, func(id string, _ *summaryView, ex *Exchange) error {
			if ex == nil {
				ex = &Exchange{}
				if _, err := loadFull(txn, id, ex, blobs); err != nil {
					return err
				}
				if !q.Reveal {
					maskExchange(ex, everything)
				}
			}
			page.Exchanges = append(page.Exchanges, *ex)
			return nil
		})
		return err
	})
	return page, err
}

// ListSummaries is [Recorder.List] for list rows: it returns the rows of
// a page and the cursor of the next one, reading only the small summary
// records unless q has Text.
func (r *Recorder) ListSummaries(q Query) ([]Summary, string, error) {
	r.Flush()
	rows := []Summary{}
	var next string
	err := r.db.Badger().View(func(txn *badger.Txn) error {
		var err error
		next, err = r.walk(txn, q, func(id string, sv *summaryView, ex *Exchange) error {
			if ex != nil {
				rows = append(rows, ex.Summary())
			} else {
				rows = append(rows, sv.summary(id))
			}
			return nil
		})
		return err
	})
	return rows, next, err
}

// Flow returns the exchanges of one journey, oldest first, masked.
func (r *Recorder) Flow(flowID string) ([]Exchange, error) {
	r.Flush()
	out := []Exchange{}
	err := r.db.Badger().View(func(txn *badger.Txn) error {
		ids, err := flowMembers(txn, flowID, "", false)
		if err != nil {
			return err
		}
		blobs := newBlobReader(txn)
		for _, id := range ids {
			var ex Exchange
			found, err := loadFull(txn, id, &ex, blobs)
			if err != nil {
				return err
			}
			if found {
				maskExchange(&ex, everything)
				out = append(out, ex)
			}
		}
		return nil
	})
	return out, err
}

// flowMembers lists the IDs of a flow's exchanges, oldest first or newest
// first, those before the cursor only when it is set: the ones in the
// flow index and the exchange that started the flow, which has no entry
// there. It need not be the oldest: a call that started earlier but
// answered later can join it.
func flowMembers(txn *badger.Txn, flowID, before string, newestFirst bool) ([]string, error) {
	prefix := flowKey(flowID, "")
	var ids []string
	var it *badger.Iterator
	var start []byte
	if newestFirst {
		it, start = reverseIterator(txn, prefix, before)
	} else {
		opts := badger.DefaultIteratorOptions
		opts.Prefix, opts.PrefetchValues = []byte(prefix), false
		it, start = txn.NewIterator(opts), []byte(prefix)
	}
	defer it.Close()
	for it.Seek(start); it.Valid(); it.Next() {
		if id := string(it.Item().Key()[len(prefix):]); id != before {
			ids = append(ids, id)
		}
	}
	own, err := startsFlow(txn, flowID)
	if err != nil || !own || (before != "" && flowID >= before) {
		return ids, err
	}
	i, found := slices.BinarySearchFunc(ids, flowID, func(a, b string) int {
		if newestFirst {
			return strings.Compare(b, a)
		}
		return strings.Compare(a, b)
	})
	if !found { // stored by an earlier version, it may be indexed
		ids = slices.Insert(ids, i, flowID)
	}
	return ids, nil
}

// startsFlow reports whether exchange id is stored and started its flow.
func startsFlow(txn *badger.Txn, id string) (bool, error) {
	item, err := txn.Get([]byte(keySummary + id))
	if err != nil {
		return false, ignoreMissing(err)
	}
	own := false
	err = item.Value(func(raw []byte) error {
		v, ok := parseSummary(raw)
		own = ok && string(v.flow) == id
		return nil
	})
	return own, err
}

// matchFunc receives each match: the summary when the walk read
// summaries, the decoded (and, without Reveal, masked) exchange when it
// searched text.
type matchFunc func(id string, sv *summaryView, ex *Exchange) error

// walk calls fn for the first page of matches and returns the cursor of
// the next page. It looks one match past the page so that the last page
// says so.
func (r *Recorder) walk(txn *badger.Txn, q Query, fn matchFunc) (string, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxPage)
	f := newFilter(q)
	n, last, next := 0, "", ""
	visit := func(id string, sv *summaryView, ex *Exchange) error {
		if n == limit {
			next = last
			return errStopWalk
		}
		n, last = n+1, id
		return fn(id, sv, ex)
	}
	var err error
	switch {
	case q.Text != "" && q.FlowID == "":
		err = walkFull(txn, q.Before, f, visit)
	default:
		err = walkSummaries(txn, q, f, visit)
	}
	if errors.Is(err, errStopWalk) {
		err = nil
	}
	return next, err
}

var errStopWalk = errors.New("page full")

// reverseIterator iterates prefix newest first, from just below before
// when it is set. Values are not prefetched: records are small enough to
// live in the LSM tree, where reading one in place costs no copy, while a
// prefetch copies a hundred of them for a page of fifty.
func reverseIterator(txn *badger.Txn, prefix, before string) (*badger.Iterator, []byte) {
	opts := badger.DefaultIteratorOptions
	opts.Prefix, opts.Reverse, opts.PrefetchValues = []byte(prefix), true, false
	it := txn.NewIterator(opts)
	start := []byte(prefix + "\xff")
	if before != "" {
		start = []byte(prefix + before)
	}
	return it, start
}

// walkSummaries reads summary records: all of them, or those of one flow.
func walkSummaries(txn *badger.Txn, q Query, f *filter, visit matchFunc) error {
	if q.FlowID != "" {
		// A flow holds a handful of exchanges: list them, then read.
		ids, err := flowMembers(txn, q.FlowID, q.Before, true)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := visitSummary(txn, nil, id, true, f, visit); err != nil {
				return err
			}
		}
		return nil
	}
	it, start := reverseIterator(txn, keySummary, q.Before)
	defer it.Close()
	for it.Seek(start); it.Valid(); it.Next() {
		id := string(it.Item().Key()[len(keySummary):])
		if id == q.Before {
			continue
		}
		if err := visitSummary(txn, it.Item(), id, false, f, visit); err != nil {
			return err
		}
	}
	return nil
}

// visitSummary filters one exchange by its summary and, when the query
// has text, by its full record.
func visitSummary(txn *badger.Txn, item *badger.Item, id string, byFlow bool, f *filter, visit matchFunc) error {
	if byFlow {
		var err error
		if item, err = txn.Get([]byte(keySummary + id)); err != nil {
			return ignoreMissing(err)
		}
	}
	return item.Value(func(raw []byte) error {
		sv, ok := parseSummary(raw)
		if !ok || !f.matchSummary(&sv) {
			return nil
		}
		if f.text == "" {
			return visit(id, &sv, nil)
		}
		var ex Exchange
		if found, err := loadFull(txn, id, &ex, newBlobReader(txn)); err != nil || !found {
			return err
		}
		if f.matchText(&ex) {
			return visit(id, nil, &ex)
		}
		return nil
	})
}

func ignoreMissing(err error) error {
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	return err
}

// walkFull reads full records, skipping those whose raw bytes cannot
// contain the text before decoding any.
func walkFull(txn *badger.Txn, before string, f *filter, visit matchFunc) error {
	it, start := reverseIterator(txn, keyFull, before)
	defer it.Close()
	var scratch []byte
	blobs := newBlobReader(txn)
	for it.Seek(start); it.Valid(); it.Next() {
		id := string(it.Item().Key()[len(keyFull):])
		if id == before {
			continue
		}
		err := it.Item().Value(func(raw []byte) error {
			text := searchable(raw, scratch, blobs)
			if len(text) > len(raw) {
				scratch = text
			}
			if !f.mayContain(text) {
				return nil
			}
			// The form and JSON are only derived for a match: the text
			// is not searched in them.
			var ex Exchange
			legacy := raw[0] == '{'
			var err error
			if legacy {
				err = decodeRecord(id, raw, &ex, blobs)
			} else {
				err = decodeFields(id, raw, &ex, blobs)
			}
			if err != nil {
				return err
			}
			sv := summaryView{status: ex.Status, method: []byte(ex.Method), endpoint: []byte(ex.Endpoint),
				outcome: []byte(ex.Outcome), flow: []byte(ex.FlowID)}
			if !f.matchSummary(&sv) {
				return nil
			}
			if !legacy {
				deriveRequest(&ex)
			}
			if f.matchText(&ex) {
				return visit(id, nil, &ex)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// filter is a prepared [Query].
type filter struct {
	endpoint []byte
	prefix   bool
	status   int
	outcome  []byte
	flow     []byte
	text     string
	// parts are the pieces of text that must appear in a stored record
	// for the text to match what the caller sees, as they are stored:
	// raw, and JSON-encoded in records written as JSON; see rawParts.
	parts, jsonParts []string
	reveal           bool
}

func newFilter(q Query) *filter {
	f := &filter{status: q.Status, outcome: []byte(q.Outcome), flow: []byte(q.FlowID),
		text: strings.ToLower(q.Text), reveal: q.Reveal}
	ep, prefix := strings.CutSuffix(q.Endpoint, "*")
	f.endpoint, f.prefix = []byte(ep), prefix
	f.parts, f.jsonParts = rawParts(f.text, false), rawParts(f.text, true)
	return f
}

func (f *filter) matchSummary(sv *summaryView) bool {
	switch {
	case f.status != 0 && sv.status != f.status:
		return false
	case len(f.outcome) > 0 && !bytes.Equal(sv.outcome, f.outcome):
		return false
	case len(f.flow) > 0 && !bytes.Equal(sv.flow, f.flow):
		return false
	case f.prefix:
		return bytes.HasPrefix(sv.endpoint, f.endpoint)
	}
	return len(f.endpoint) == 0 || bytes.Equal(sv.endpoint, f.endpoint)
}

// mayContain is a cheap check on the stored bytes: a record that does not
// hold the text anywhere cannot match.
func (f *filter) mayContain(raw []byte) bool {
	parts := f.parts
	if len(raw) > 0 && raw[0] == '{' {
		parts = f.jsonParts
	}
	var lower []byte
	for _, part := range parts {
		if isASCII(part) {
			if indexFold(raw, part) < 0 {
				return false
			}
			continue
		}
		if lower == nil {
			lower = bytes.ToLower(raw)
		}
		if !bytes.Contains(lower, []byte(part)) {
			return false
		}
	}
	return true
}

// rawParts splits the text where what the caller sees differs from what
// is stored — the ": " between a header's name and value, the [Mask] in
// place of a secret, and newlines and tabs, which JSON escapes — and
// returns the pieces as they are stored (JSON-encoded when asJSON). Each
// must appear in a record that matches.
func rawParts(text string, asJSON bool) []string {
	var parts []string
	for _, piece := range strings.FieldsFunc(text, func(c rune) bool { return strings.ContainsRune(":*\r\n\t", c) }) {
		piece = strings.TrimSpace(piece)
		if piece == "" || !utf8.ValidString(piece) {
			continue
		}
		if asJSON {
			enc, _ := json.Marshal(piece)
			piece = string(enc[1 : len(enc)-1])
		}
		parts = append(parts, strings.ToLower(piece))
	}
	return parts
}

// matchText masks ex unless the query reveals, then searches what the
// caller would see.
func (f *filter) matchText(ex *Exchange) bool {
	if !f.reveal {
		maskExchange(ex, everything)
	}
	if f.text == "" {
		return true
	}
	for _, s := range [...]string{ex.URL, ex.RequestBody, ex.ResponseBody} {
		if strings.Contains(strings.ToLower(s), f.text) {
			return true
		}
	}
	return headersContain(ex.RequestHeaders, f.text) || headersContain(ex.ResponseHeaders, f.text)
}

func headersContain(h map[string][]string, text string) bool {
	for name, vals := range h {
		for _, v := range vals {
			if strings.Contains(strings.ToLower(name+": "+v), text) {
				return true
			}
		}
	}
	return false
}

func isASCII(s string) bool {
	for _, c := range []byte(s) {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// indexFold finds the lower-case ASCII needle in b, ignoring ASCII case,
// without allocating.
func indexFold(b []byte, needle string) int {
	if len(needle) == 0 {
		return 0
	}
	first := needle[0]
	for i := 0; i+len(needle) <= len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c == first && hasPrefixFold(b[i:i+len(needle)], needle) {
			return i
		}
	}
	return -1
}
