package recorder

import (
	"bytes"
	"errors"
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
		found, err = r.loadFull(txn, id, &ex, newBlobReader(txn))
		return err
	})
	if found && !reveal {
		maskExchange(&ex, everything)
	}
	return ex, found, err
}

func (r *Recorder) loadFull(txn *badger.Txn, id string, ex *Exchange, blobs *blobReader) (bool, error) {
	x, ok := parseID(id)
	if !ok {
		return false, nil
	}
	horizon, err := loadHorizon(txn)
	if err != nil {
		return false, err
	}
	return r.segs.lookup(txn, x, horizon, func(_, rec []byte) error { return decodeRecord(id, rec, ex, blobs) })
}

// List returns a page of the exchanges q selects, newest first.
func (r *Recorder) List(q Query) (Page, error) {
	r.Flush()
	page := Page{Exchanges: []Exchange{}, Total: int(r.stored.Load())}
	err := r.db.Badger().View(func(txn *badger.Txn) error {
		var err error
		blobs := newBlobReader(txn)
		page.Next, err = r.walk(txn, q, true, blobs, func(id string, _ *summaryView, rec []byte, ex *Exchange) error {
			if ex == nil {
				ex = &Exchange{}
				if err := decodeRecord(id, rec, ex, blobs); err != nil {
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
		next, err = r.walk(txn, q, false, newBlobReader(txn), func(id string, sv *summaryView, _ []byte, ex *Exchange) error {
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
		horizon, err := loadHorizon(txn)
		if err != nil {
			return err
		}
		members, err := r.segs.flowMembers(txn, flowID, horizon, true)
		if err != nil {
			return err
		}
		blobs := newBlobReader(txn)
		for _, m := range members {
			var ex Exchange
			if err := decodeRecord(m.id.String(), m.rec, &ex, blobs); err != nil {
				return err
			}
			maskExchange(&ex, everything)
			out = append(out, ex)
		}
		return nil
	})
	return out, err
}

// matchFunc receives each match: the summary when the walk read
// summaries (and the record when it was asked for records), the decoded
// (and, without Reveal, masked) exchange when it searched text.
type matchFunc func(id string, sv *summaryView, rec []byte, ex *Exchange) error

// walk calls fn for the first page of matches and returns the cursor of
// the next page. It looks one match past the page so that the last page
// says so. Records are read when full is set or q has Text.
func (r *Recorder) walk(txn *badger.Txn, q Query, full bool, blobs *blobReader, fn matchFunc) (string, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxPage)
	n, last, next := 0, "", ""
	v := &visitor{f: newFilter(q), blobs: blobs, visit: func(id string, sv *summaryView, rec []byte, ex *Exchange) error {
		if n == limit {
			next = last
			return errStopWalk
		}
		n, last = n+1, id
		return fn(id, sv, rec, ex)
	}}
	horizon, err := loadHorizon(txn)
	if err != nil {
		return "", err
	}
	full = full || q.Text != ""
	before := newCursor(q.Before)
	if q.FlowID != "" {
		err = r.walkFlow(txn, q.FlowID, horizon, &before, full, v)
	} else {
		err = r.segs.newestFirst(txn, horizon, before, full).each(v.entry)
	}
	if errors.Is(err, errStopWalk) {
		err = nil
	}
	return next, err
}

var errStopWalk = errors.New("page full")

// walkFlow visits the exchanges of a flow before the cursor, newest
// first. A flow holds a handful of exchanges: list them, then visit.
func (r *Recorder) walkFlow(txn *badger.Txn, flowID string, horizon xid, before *cursor, full bool, v *visitor) error {
	members, err := r.segs.flowMembers(txn, flowID, horizon, full)
	if err != nil {
		return err
	}
	for i := len(members) - 1; i >= 0; i-- {
		if m := &members[i]; before.admits(m.id) {
			if err := v.entry(m.id, m.sum, m.rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// visitor filters the exchanges of a walk and hands the matches on.
type visitor struct {
	f       *filter
	blobs   *blobReader
	scratch []byte
	visit   matchFunc
}

// entry filters one exchange by its summary and, when the query has
// text, by its record: first by the raw bytes, which cannot match when
// they do not hold the text anywhere, then decoded.
func (v *visitor) entry(id xid, sum, rec []byte) error {
	sv, ok := parseSummary(sum)
	if !ok || !v.f.matchSummary(&sv) {
		return nil
	}
	if v.f.text == "" {
		return v.visit(id.String(), &sv, rec, nil)
	}
	text := searchable(rec, v.scratch, v.blobs)
	if len(text) > len(rec) {
		v.scratch = text
	}
	if !v.f.mayContain(text) {
		return nil
	}
	var ex Exchange
	if err := decodeRecord(id.String(), rec, &ex, v.blobs); err != nil {
		return err
	}
	if v.f.matchText(&ex) {
		return v.visit(ex.ID, nil, nil, &ex)
	}
	return nil
}

func ignoreMissing(err error) error {
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	return err
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
	// for the text to match what the caller sees; see rawParts.
	parts  []string
	reveal bool
}

func newFilter(q Query) *filter {
	f := &filter{status: q.Status, outcome: []byte(q.Outcome), flow: []byte(q.FlowID),
		text: strings.ToLower(q.Text), reveal: q.Reveal}
	ep, prefix := strings.CutSuffix(q.Endpoint, "*")
	f.endpoint, f.prefix = []byte(ep), prefix
	f.parts = rawParts(f.text)
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
	var lower []byte
	for _, part := range f.parts {
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
// place of a secret, and newlines and tabs — and returns the pieces.
// Each must appear in a record that matches.
func rawParts(text string) []string {
	var parts []string
	for _, piece := range strings.FieldsFunc(text, func(c rune) bool { return strings.ContainsRune(":*\r\n\t", c) }) {
		piece = strings.TrimSpace(piece)
		if piece == "" || !utf8.ValidString(piece) {
			continue
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
