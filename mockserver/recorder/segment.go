package recorder

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/klauspost/compress/s2"
)

// Exchanges are stored in segments: each batch the writer stores (up to
// [maxBatch] exchanges) is cut into a few keys, each holding the
// summaries and full records of the exchanges of up to
// [maxSegmentBytes]. Badger's cost is by the key — skiplist, WAL,
// memtable flushes, table building, compaction, and again for the
// tombstones of retention — far more than by the byte, and two or three
// keys per exchange made recording cost more than serving the request.
//
// A segment's key is
//
//	recorder/g/<newest ID>/<oldest ID>/<entry count, 4 hex digits>
//
// IDs are handed out when a request starts, but exchanges are batched
// when they are answered, so the IDs of segments overlap: a slow call
// lands in a segment written after those of calls that started later.
// Keys sort by the newest ID, so that listing newest first is a merge of
// the few segments that overlap, and the writer bounds the overlap: no
// segment spans more than [segmentSpan] of IDs (a batch with a slow call
// is cut in two). The segments that may hold an ID x are then those
// whose newest ID lies in [x, x+segmentSpan], and every segment after one
// whose newest ID is n holds IDs from n-segmentSpan on. The recorder
// keeps the keys in memory (see [segmentDir]); the count in them lets a
// start count the stored exchanges without reading a value.
//
// The value is
//
//	version byte, entry count (uvarint), then for each entry, newest
//	first: its ID's time (uvarint: the first whole, then how much older
//	than the entry before), its ID's sequence number shifted left once
//	with the low bit set when the exchange is in the flow index
//	(uvarint), the length of its summary and of its record (uvarints);
//	then the summaries, then the records, in that order
//
// where summaries and records are those of summary.go and record.go. The
// summaries come first and together, so that a list that only shows
// them copies no record.
//
// That value is stored s2-compressed, behind the byte [segmentPacked],
// whenever compressing saves an eighth: the exchanges of a batch are
// alike (the same headers, forms and answers but for a few values), and
// compress five to eight times. What storing pays by the byte — then
// Badger's memory-mapped value log, the page faults that grow it and the
// msync that closes each file; now the segment files of segfile.go,
// which hold the values of a request log on disk — was most of what
// recording cost on the writer's side, far more than compressing; and
// the log takes a sixth of the disk. Readers see the plain value: see
// [segmentDir.readSegment].
//
// Retention deletes whole segments, and hides the exchanges it deleted
// from a segment that also holds later ones: see retention.go.
const (
	keySegment = keyPrefix + "g/"
	keyHorizon = keyPrefix + "h"
	// keyJoiner is the flow index, which only holds the exchanges that a
	// flow's scan would not find; see [flowMembers].
	keyJoiner = keyPrefix + "i/"
)

const (
	segmentVersion = 1
	// segmentPacked starts a segment stored compressed: the byte, then
	// the s2 block of its plain value (which starts with segmentVersion).
	segmentPacked = 2
	// maxSegmentPlain bounds what a damaged segment may make a reader
	// allocate; a segment holds 64 KiB of exchanges, or one exchange
	// with two bodies of at most the recorder's body cap.
	maxSegmentPlain = 64 << 20
	// segmentSpan bounds how much older than its newest exchange the
	// oldest of a segment may be. A batch spans the time it collects
	// (linger) and the longest call in it; calls slower than this end up
	// in a segment of their own. The smaller it is, the fewer segments a
	// read of one exchange considers.
	segmentSpan = 250 * time.Millisecond
	// maxSegmentBytes cuts a batch into several segments. Reading one
	// exchange reads its whole segment, which an in-memory database
	// decompresses and copies three times, and a key per 64 KiB of
	// exchanges costs Badger little.
	maxSegmentBytes = 64 << 10
	// maxSegmentEntries is what the count in the key can say.
	maxSegmentEntries = 0xffff
)

const segmentKeyLen = len(keySegment) + 2*idLen + 2 + 4

var errBadSegment = errors.New("recorder: malformed segment")

// appendSegmentKey appends the key of a segment.
func appendSegmentKey(b []byte, newest, oldest xid, n int) []byte {
	b = appendID(append(b, keySegment...), newest)
	b = appendID(append(b, '/'), oldest)
	b = append(b, '/')
	for shift := 12; shift >= 0; shift -= 4 {
		b = append(b, hexDigits[n>>shift&0xf])
	}
	return b
}

// parseSegmentKey reads a segment's key.
func parseSegmentKey(k []byte) (segInfo, bool) {
	if len(k) != segmentKeyLen || string(k[:len(keySegment)]) != keySegment {
		return segInfo{}, false
	}
	k = k[len(keySegment):]
	newest, ok1 := parseID(k[:idLen])
	oldest, ok2 := parseID(k[idLen+1 : 2*idLen+1])
	n, ok3 := parseHex(k[2*idLen+2:])
	ok := ok1 && ok2 && ok3 && k[idLen] == '/' && k[2*idLen+1] == '/'
	return segInfo{newest: newest, oldest: oldest, n: int(n)}, ok
}

// appendSegment appends the value of a segment holding the given entries
// of w, newest first.
func (w *writerState) appendSegment(b []byte, run []int) []byte {
	b = append(b, segmentVersion)
	b = binary.AppendUvarint(b, uint64(len(run)))
	var prev uint64
	for k, i := range run {
		e := &w.entries[i]
		ns := uint64(e.id.ns)
		if k == 0 {
			b = binary.AppendUvarint(b, ns)
		} else {
			b = binary.AppendUvarint(b, prev-ns)
		}
		prev = ns
		tag := uint64(e.id.seq) << 1
		if e.indexed {
			tag |= 1
		}
		b = binary.AppendUvarint(b, tag)
		b = binary.AppendUvarint(b, uint64(e.summary.end-e.summary.start))
		b = binary.AppendUvarint(b, uint64(e.full.end-e.full.start))
	}
	for _, i := range run {
		b = append(b, w.bytes(w.entries[i].summary)...)
	}
	for _, i := range run {
		b = append(b, w.bytes(w.entries[i].full)...)
	}
	return b
}

// segEntry locates one exchange in a segment's value.
type segEntry struct {
	id       xid
	indexed  bool
	sum, rec span
}

// decodeSegment reads the entries of a segment into dst, newest first;
// sumEnd is where its summaries end.
func decodeSegment(raw []byte, dst []segEntry) (entries []segEntry, sumEnd int, err error) {
	dst = dst[:0]
	if len(raw) < 2 || raw[0] != segmentVersion {
		return dst, 0, errBadSegment
	}
	i := 1
	n, ok := uvarintAt(raw, &i)
	if !ok || n == 0 || n > uint64(len(raw)) {
		return dst, 0, errBadSegment
	}
	var ns uint64
	for k := range int(n) {
		d, ok1 := uvarintAt(raw, &i)
		tag, ok2 := uvarintAt(raw, &i)
		sumLen, ok3 := uvarintAt(raw, &i)
		recLen, ok4 := uvarintAt(raw, &i)
		if !ok1 || !ok2 || !ok3 || !ok4 || tag>>1 > 0xffff || sumLen > uint64(len(raw)) || recLen > uint64(len(raw)) ||
			(k > 0 && d > ns) {
			return dst, 0, errBadSegment
		}
		if k == 0 {
			ns = d
		} else {
			ns -= d
		}
		dst = append(dst, segEntry{id: xid{int64(ns), uint32(tag >> 1)}, indexed: tag&1 != 0,
			sum: span{0, int(sumLen)}, rec: span{0, int(recLen)}})
	}
	off := i
	for k := range dst {
		l := dst[k].sum.end
		dst[k].sum = span{off, off + l}
		if off += l; off > len(raw) {
			return dst, 0, errBadSegment
		}
	}
	sumEnd = off
	for k := range dst {
		l := dst[k].rec.end
		dst[k].rec = span{off, off + l}
		off += l
	}
	if off != len(raw) {
		return dst, 0, errBadSegment
	}
	return dst, sumEnd, nil
}

// findEntry finds exchange id in a segment without decoding the others.
func findEntry(raw []byte, id xid) (sum, rec []byte, found bool, err error) {
	if len(raw) < 2 || raw[0] != segmentVersion {
		return nil, nil, false, errBadSegment
	}
	i := 1
	n, ok := uvarintAt(raw, &i)
	if !ok || n > uint64(len(raw)) {
		return nil, nil, false, errBadSegment
	}
	// Where its summary and record start among the others, and how long
	// all summaries are.
	var ns, sumOff, recOff, sums uint64
	var sumLen, recLen uint64
	for k := range n {
		d, ok1 := uvarintAt(raw, &i)
		tag, ok2 := uvarintAt(raw, &i)
		sl, ok3 := uvarintAt(raw, &i)
		rl, ok4 := uvarintAt(raw, &i)
		if !ok1 || !ok2 || !ok3 || !ok4 || sl > uint64(len(raw)) || rl > uint64(len(raw)) || (k > 0 && d > ns) {
			return nil, nil, false, errBadSegment
		}
		if k == 0 {
			ns = d
		} else {
			ns -= d
		}
		switch {
		case found:
		case ns == uint64(id.ns) && tag>>1 == uint64(id.seq):
			found, sumOff, sumLen, recLen = true, sums, sl, rl
		default:
			recOff += rl
		}
		sums += sl
	}
	if !found {
		return nil, nil, false, nil
	}
	start := uint64(i) + sumOff
	recStart := uint64(i) + sums + recOff
	if start+sumLen > uint64(len(raw)) || recStart+recLen > uint64(len(raw)) {
		return nil, nil, false, errBadSegment
	}
	return raw[start : start+sumLen], raw[recStart : recStart+recLen], true, nil
}

func uvarintAt(b []byte, i *int) (uint64, bool) {
	v, n := binary.Uvarint(b[*i:])
	if n <= 0 {
		return 0, false
	}
	*i += n
	return v, true
}

// keyOnly iterates keys with prefix, oldest first or newest first.
func keyOnly(txn *badger.Txn, prefix string, reverse bool) *badger.Iterator {
	opts := badger.DefaultIteratorOptions
	opts.Prefix, opts.Reverse, opts.PrefetchValues = []byte(prefix), reverse, false
	return txn.NewIterator(opts)
}

// segInfo is what a segment's key says and, once the writer stored or
// read it (ids is not nil then), the IDs of its exchanges (newest first)
// and their keys in the flow index, which retention needs, and the flows
// they joined, which spare a flow's scan reading it.
type segInfo struct {
	newest, oldest xid
	n              int
	ids            []xid
	joiners        [][]byte
	flows          flowFilter
}

// flowFilter is a Bloom filter of the flows that the exchanges of a
// segment joined (not of those that started their own): about ten bits
// each, three hashes, one false positive in fifty.
type flowFilter []uint64

func newFlowFilter(flows int) flowFilter {
	if flows == 0 {
		return nil // holds nothing
	}
	words := 1
	for words*64 < flows*10 && words < 64 {
		words *= 2
	}
	return make(flowFilter, words)
}

func (f flowFilter) bits(flow xid) [3]uint64 {
	h := uint64(flow.ns)*0x9e3779b97f4a7c15 ^ uint64(flow.seq)*0xc2b2ae3d27d4eb4f
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 29
	n := uint64(len(f) * 64)
	return [3]uint64{h % n, (h >> 21) % n, (h >> 42) % n}
}

func (f flowFilter) add(flow xid) {
	for _, b := range f.bits(flow) {
		f[b/64] |= 1 << (b % 64)
	}
}

func (f flowFilter) mayHold(flow xid) bool {
	if len(f) == 0 {
		return false
	}
	for _, b := range f.bits(flow) {
		if f[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

func (s *segInfo) key() []byte { return appendSegmentKey(nil, s.newest, s.oldest, s.n) }

// segmentDir lists the stored segments by newest ID. Reads find their
// segments in it and read each with one lookup: stepping over segment
// keys in Badger is costly, as an in-memory database keeps each value
// in the table block of its key, which a step decompresses. The writer
// alone changes it, after its writes are stored; a reader that finds a
// segment not in its transaction yet, or no longer, skips it. It takes
// some 130 bytes a segment and 16 an exchange: 2 MB for 100,000
// exchanges under load, 14 MB when each came alone.
type segmentDir struct {
	mu sync.RWMutex
	// segs[head:] are the stored segments; the ones before, deleted,
	// are dropped from time to time.
	segs []segInfo
	head int
	// files hold the segments' bytes of a request log on disk; nil in
	// memory, where the values are the segments.
	files *segmentFiles
}

func (d *segmentDir) reset(segs []segInfo) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.segs, d.head = segs, 0
}

// live is the stored segments, for the writer, which alone changes them.
func (d *segmentDir) live() []segInfo { return d.segs[d.head:] }

// add files a segment the writer stored; nearly always the newest. Its
// slices are not to change any more.
func (d *segmentDir) add(s segInfo) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := len(d.segs)
	if i > d.head && s.newest.less(d.segs[i-1].newest) {
		i = d.head + d.search(s.newest)
	}
	d.segs = slices.Insert(d.segs, i, s)
}

// dropBefore forgets the segments wholly before h, which the writer
// deleted: a prefix.
func (d *segmentDir) dropBefore(h xid) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.head < len(d.segs) && d.segs[d.head].newest.less(h) {
		d.head++
	}
	if d.head >= 64 && d.head > len(d.segs)/2 {
		n := copy(d.segs, d.segs[d.head:])
		clear(d.segs[n:])
		d.segs, d.head = d.segs[:n], 0
	}
}

// know files what the writer read of live[i].
func (d *segmentDir) know(i int, read segInfo) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := &d.live()[i]
	s.ids, s.joiners, s.flows = read.ids, read.joiners, read.flows
}

// search is the index in live of the first segment whose newest ID is id
// or later.
func (d *segmentDir) search(id xid) int {
	live := d.live()
	i, _ := slices.BinarySearchFunc(live, id, func(s segInfo, id xid) int { return s.newest.cmp(id) })
	return i
}

// below returns the newest segment with its newest ID before id and its
// oldest admitted by c.
func (d *segmentDir) below(id xid, c *cursor) (segInfo, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	live := d.live()
	for i := d.search(id) - 1; i >= 0; i-- {
		if c.admits(live[i].oldest) { // else all of it is at or after the cursor
			return live[i], true
		}
	}
	return segInfo{}, false
}

// from returns the first segment whose newest ID is id or later.
func (d *segmentDir) from(id xid) (segInfo, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	live := d.live()
	i := d.search(id)
	if i == len(live) {
		return segInfo{}, false
	}
	return live[i], true
}

// holding appends to dst the segments that may hold id.
func (d *segmentDir) holding(dst []segInfo, id xid) []segInfo {
	d.mu.RLock()
	defer d.mu.RUnlock()
	last := xid{addNS(id.ns, int64(segmentSpan)), math.MaxUint32}
	for _, s := range d.live()[d.search(id):] {
		if last.less(s.newest) {
			break
		}
		if !id.less(s.oldest) {
			dst = append(dst, s)
		}
	}
	return dst
}

// after is the ID just after id, where a walk from oldest to newest
// goes on.
func after(id xid) xid { return xid{id.ns, id.seq + 1} }

// readSegment calls fn with the plain value of a segment, which is only
// valid during the call; found is false when the transaction does not
// have it, or retention deleted its file since.
func (d *segmentDir) readSegment(txn *badger.Txn, s *segInfo, fn func(raw []byte) error) (found bool, err error) {
	item, err := txn.Get(s.key())
	if err != nil {
		return false, ignoreMissing(err)
	}
	found = true
	err = item.Value(func(stored []byte) error {
		var err error
		found, err = d.withStored(stored, fn)
		return err
	})
	return found, err
}

// withStored calls fn with the plain value of a segment whose Badger
// value is stored: the segment itself or, for one in a segment file,
// where it lies (see segfile.go). found is false when the file is gone.
func (d *segmentDir) withStored(stored []byte, fn func(raw []byte) error) (found bool, err error) {
	if len(stored) == 0 || stored[0] != segmentExternal {
		return true, withPlainSegment(stored, fn)
	}
	p, ok := parsePlace(stored)
	if !ok || d.files == nil {
		return true, errBadSegment
	}
	buf := segmentBuffers.Get().(*[]byte)
	defer putSegmentBuffer(buf)
	data, err := d.files.read(p, *buf)
	switch {
	case errors.Is(err, errSegmentGone):
		return false, nil
	case err != nil:
		return true, err
	}
	*buf = data
	return true, withPlainSegment(data, fn)
}

// withPlainSegment calls fn with the plain value of a stored segment:
// the value itself, or its decompression into a pooled buffer.
func withPlainSegment(stored []byte, fn func(raw []byte) error) error {
	if len(stored) == 0 || stored[0] != segmentPacked {
		return fn(stored)
	}
	buf := segmentBuffers.Get().(*[]byte)
	defer putSegmentBuffer(buf)
	plain, err := unpackSegment(stored, *buf)
	if err != nil {
		return err
	}
	*buf = plain
	return fn(plain)
}

// segmentBuffers hold decompressed segments while they are read.
var segmentBuffers = sync.Pool{New: func() any { return new([]byte) }}

func putSegmentBuffer(buf *[]byte) {
	if cap(*buf) <= maxPooledSegment {
		segmentBuffers.Put(buf)
	}
}

// maxPooledSegment keeps the buffers of a few large segments out of the
// pool.
const maxPooledSegment = 1 << 20

// unpackSegment decompresses a packed segment into dst's memory.
func unpackSegment(stored, dst []byte) ([]byte, error) {
	n, err := s2.DecodedLen(stored[1:])
	if err != nil || n > maxSegmentPlain {
		return nil, errBadSegment
	}
	plain, err := s2.Decode(slices.Grow(dst[:0], n)[:n], stored[1:])
	if err != nil {
		return nil, errBadSegment
	}
	return plain, nil
}

// appendPacked appends the stored form of the plain segment value:
// compressed when that saves an eighth, as it is otherwise.
func appendPacked(b, plain []byte) []byte {
	start := len(b)
	b = slices.Grow(b, 1+s2.MaxEncodedLen(len(plain)))
	b = append(b, segmentPacked)
	packed := s2.Encode(b[len(b):cap(b)], plain)
	if len(packed) > len(plain)-len(plain)/8 {
		return append(b[:start], plain...)
	}
	return b[:len(b)+len(packed)]
}

// loadHorizon reads the retention horizon: the exchanges before it are
// deleted, whether their segment is or not.
func loadHorizon(txn *badger.Txn) (xid, error) {
	item, err := txn.Get([]byte(keyHorizon))
	if err != nil {
		return xid{}, ignoreMissing(err)
	}
	var h xid
	err = item.Value(func(v []byte) error {
		var ok bool
		if h, ok = parseID(v); !ok {
			return errBadSegment
		}
		return nil
	})
	return h, err
}

// lookup finds exchange id and calls fn with its summary and record,
// which are only valid during the call.
func (d *segmentDir) lookup(txn *badger.Txn, id, horizon xid, fn func(sum, rec []byte) error) (bool, error) {
	if id.less(horizon) {
		return false, nil
	}
	var candidates [4]segInfo
	for _, s := range d.holding(candidates[:0], id) {
		found := false
		_, err := d.readSegment(txn, &s, func(raw []byte) error {
			sum, rec, ok, err := findEntry(raw, id)
			if !ok || err != nil {
				return err
			}
			found = true
			return fn(sum, rec)
		})
		if found || err != nil {
			return found, err
		}
	}
	return false, nil
}

// cursor is the Before of a query: the IDs less than it are listed. One
// that is no ID is compared as a string, as IDs were.
type cursor struct {
	raw   string
	id    xid
	exact bool
}

func newCursor(s string) cursor {
	c := cursor{raw: s}
	c.id, c.exact = parseID(s)
	return c
}

func (c *cursor) admits(id xid) bool {
	switch {
	case c.raw == "":
		return true
	case c.exact:
		return id.less(c.id)
	}
	return id.String() < c.raw
}

// start is where a newest-first walk starts: the segments it reads have
// their newest ID before it, and those after cannot hold an ID before the
// cursor.
func (c *cursor) start() xid {
	if c.raw == "" || !c.exact {
		return xid{-1, math.MaxUint32} // after every ID
	}
	return xid{addNS(c.id.ns, int64(segmentSpan)+1), 0}
}

// newestFirst walks the kept exchanges before a cursor, newest first: a
// merge of the segments in the order of their newest IDs. A segment is
// only opened once its newest ID is the newest left, and segments
// overlap little (see [segmentSpan]), so one or two are open at a time.
type newestFirst struct {
	txn     *badger.Txn
	dir     *segmentDir
	horizon xid
	before  cursor
	// full reads the records too, not only the summaries.
	full  bool
	open  []*segCursor
	spare []*segCursor
	// pos is the newest ID of the last segment considered. next is the
	// segment to open next; peeked says it is up to date, more that
	// there is one.
	pos          xid
	next         segInfo
	peeked, more bool
}

// segCursor is an open segment: its value (or, for summaries, the part
// up to them), its entries left to walk, entries[i:].
type segCursor struct {
	raw     []byte
	entries []segEntry
	i       int
}

func (d *segmentDir) newestFirst(txn *badger.Txn, horizon xid, before cursor, full bool) *newestFirst {
	return &newestFirst{txn: txn, dir: d, horizon: horizon, before: before, full: full, pos: before.start()}
}

// each calls fn with every kept exchange before the cursor, newest first,
// until fn fails. rec is nil unless the walk is full. Both are only valid
// during the call.
func (w *newestFirst) each(fn func(id xid, sum, rec []byte) error) error {
	for {
		more := w.peek()
		if c := w.top(); c != nil && (!more || w.next.newest.less(c.entries[c.i].id)) {
			e := &c.entries[c.i]
			c.i++
			var rec []byte
			if w.full {
				rec = c.raw[e.rec.start:e.rec.end]
			}
			if err := fn(e.id, c.raw[e.sum.start:e.sum.end], rec); err != nil {
				return err
			}
			continue
		}
		if !more {
			return nil
		}
		if err := w.openNext(); err != nil {
			return err
		}
	}
}

// peek finds the next segment that holds a kept exchange before the
// cursor.
func (w *newestFirst) peek() bool {
	if w.peeked {
		return w.more
	}
	s, ok := w.dir.below(w.pos, &w.before)
	// A segment before the horizon is wholly before it, and so are all
	// the older ones.
	w.peeked, w.more = true, ok && !s.newest.less(w.horizon)
	w.pos, w.next = s.newest, s
	return w.more
}

// top is the open segment whose next entry is the newest.
func (w *newestFirst) top() *segCursor {
	var best *segCursor
	for k := 0; k < len(w.open); {
		c := w.open[k]
		if c.i == len(c.entries) {
			w.open = slices.Delete(w.open, k, k+1)
			w.spare = append(w.spare, c)
			continue
		}
		if best == nil || best.entries[best.i].id.less(c.entries[c.i].id) {
			best = c
		}
		k++
	}
	return best
}

// openNext opens the next segment, copying what the walk reads of it:
// the value is only valid during the callback.
func (w *newestFirst) openNext() error {
	w.peeked = false
	var c *segCursor
	if n := len(w.spare); n > 0 {
		c, w.spare = w.spare[n-1], w.spare[:n-1]
	} else {
		c = &segCursor{}
	}
	found, err := w.dir.readSegment(w.txn, &w.next, func(raw []byte) error {
		var sumEnd int
		var err error
		if c.entries, sumEnd, err = decodeSegment(raw, c.entries); err != nil {
			return err
		}
		if !w.full {
			raw = raw[:sumEnd]
		}
		c.raw = append(c.raw[:0], raw...)
		return nil
	})
	if err != nil || !found {
		w.spare = append(w.spare, c)
		return err
	}
	// Entries are newest first: those at or after the cursor lead, those
	// before the horizon trail.
	c.i = 0
	for c.i < len(c.entries) && !w.before.admits(c.entries[c.i].id) {
		c.i++
	}
	end := len(c.entries)
	for end > c.i && c.entries[end-1].id.less(w.horizon) {
		end--
	}
	c.entries = c.entries[:end]
	w.open = append(w.open, c)
	return nil
}

// member is an exchange of a flow, copied out of its segment.
type member struct {
	id       xid
	sum, rec []byte
}

// flowMembers returns the kept exchanges of a flow, oldest first, their
// records too when full is set.
//
// An exchange joins a flow when it is written, after the exchange that
// started it, so its segment's newest ID is no older than the flow's ID
// less [segmentSpan] unless the exchange itself started that much before
// the flow: a call that took that long. Only those few are in the flow
// index; the others are found by scanning the segments from the flow on,
// which spares an index key for nearly every exchange. The scan reads
// the segments whose filter may hold the flow: those written since the
// start, and all the others (which the recorder found at its start).
func (d *segmentDir) flowMembers(txn *badger.Txn, flowID string, horizon xid, full bool) ([]member, error) {
	flow, ok := parseID(flowID)
	if !ok {
		return nil, nil
	}
	var out []member
	keep := func(id xid, sum, rec []byte) error {
		m := member{id: id, sum: slices.Clone(sum)}
		if full {
			m.rec = slices.Clone(rec)
		}
		out = append(out, m)
		return nil
	}
	if err := d.scanFlow(txn, flow, flowID, horizon, keep); err != nil {
		return nil, err
	}
	// The exchange that started the flow is in no filter.
	_, err := d.lookup(txn, flow, horizon, func(sum, rec []byte) error {
		if string(summaryFlow(sum)) != flowID {
			return nil
		}
		return keep(flow, sum, rec)
	})
	if err != nil {
		return nil, err
	}
	if err := d.indexedMembers(txn, flowID, horizon, keep); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b member) int { return a.id.cmp(b.id) })
	// One in the index may be in a scanned segment too.
	return slices.CompactFunc(out, func(a, b member) bool { return a.id == b.id }), nil
}

// scanFlow calls keep with the exchanges of the flow in the segments from
// the flow on.
func (d *segmentDir) scanFlow(txn *badger.Txn, flow xid, flowID string, horizon xid, keep func(id xid, sum, rec []byte) error) error {
	var entries []segEntry
	pos := xid{addNS(flow.ns, -int64(segmentSpan)), 0}
	for {
		s, ok := d.from(pos)
		if !ok {
			return nil
		}
		pos = after(s.newest)
		if s.ids != nil && !s.flows.mayHold(flow) {
			continue
		}
		_, err := d.readSegment(txn, &s, func(raw []byte) error {
			var err error
			if entries, _, err = decodeSegment(raw, entries); err != nil {
				return err
			}
			for _, e := range entries {
				sum := raw[e.sum.start:e.sum.end]
				if string(summaryFlow(sum)) != flowID || e.id.less(horizon) {
					continue
				}
				if err := keep(e.id, sum, raw[e.rec.start:e.rec.end]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// indexedMembers calls keep with the exchanges of the flow index.
func (d *segmentDir) indexedMembers(txn *badger.Txn, flowID string, horizon xid, keep func(id xid, sum, rec []byte) error) error {
	prefix := keyJoiner + flowID + "/"
	it := keyOnly(txn, prefix, false)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		id, ok := parseID(it.Item().Key()[len(prefix):])
		if !ok {
			continue
		}
		_, err := d.lookup(txn, id, horizon, func(sum, rec []byte) error { return keep(id, sum, rec) })
		if err != nil {
			return err
		}
	}
	return nil
}

// appendJoinerKey appends the key of exchange id in the index of flow.
func appendJoinerKey[S ~string | ~[]byte](b []byte, flow S, id xid) []byte {
	b = append(append(b, keyJoiner...), flow...)
	return appendID(append(b, '/'), id)
}
