package recorder

import (
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/dgraph-io/badger/v4"

	"regsandbox/storage"
)

// keyPrefix starts every key of the recorder: segments of exchanges
// (segment.go), blobs (blob.go), the retention horizon and the index of
// flows.
const keyPrefix = "recorder/"

// ageCheckEvery is how often an idle recorder drops exchanges that grew
// too old.
const ageCheckEvery = time.Minute

// enqueue hands p to the writer. When the queue is full the oldest
// waiting exchange makes room: the newest are the ones being looked at.
// The writer is woken for the first exchange of a batch (to start the
// linger) and when a batch is full, not for each one.
func (r *Recorder) enqueue(p *pending) {
	var dropped *pending
	r.queueMu.Lock()
	size := len(r.queue)
	if r.qLen == size {
		dropped, r.queue[r.qHead] = r.queue[r.qHead], nil
		r.qHead = (r.qHead + 1) % size
		r.qLen--
	} else {
		r.pending++
	}
	r.queue[(r.qHead+r.qLen)%size] = p
	r.qLen++
	n := r.qLen
	r.queueMu.Unlock()
	if dropped != nil {
		r.dropped.Add(1)
		dropped.release()
	}
	if n == 1 || n == r.absorbSize() {
		select {
		case r.wake <- struct{}{}:
		default: // the writer has a wake-up waiting already
		}
	}
}

// absorbSize is how many queued exchanges make the writer take them in
// (see [Recorder.absorb]).
func (r *Recorder) absorbSize() int { return min(absorbBatch, len(r.queue)) }

// pendingCount is how many exchanges are queued or taken in by the
// writer but not stored yet.
func (r *Recorder) pendingCount() int {
	r.queueMu.Lock()
	defer r.queueMu.Unlock()
	return r.pending
}

// stopPending takes n stored (or lost) exchanges off the pending count.
func (r *Recorder) stopPending(n int) {
	r.queueMu.Lock()
	r.pending -= n
	r.queueMu.Unlock()
}

func (r *Recorder) queued() int {
	r.queueMu.Lock()
	defer r.queueMu.Unlock()
	return r.qLen
}

// take moves up to n of the oldest queued exchanges to batch.
func (r *Recorder) take(batch []*pending, n int) []*pending {
	r.queueMu.Lock()
	defer r.queueMu.Unlock()
	size := len(r.queue)
	for n = min(n, r.qLen); n > 0; n-- {
		batch = append(batch, r.queue[r.qHead])
		r.queue[r.qHead] = nil
		r.qHead = (r.qHead + 1) % size
		r.qLen--
	}
	return batch
}

// run is the writer. It takes queued exchanges in as soon as a few are
// there, encoding them into the batch being built and letting go of them
// (a pending that waited for a whole batch had gone cold, and touching
// it again cost more than encoding it), and stores the batch in one
// write once it holds maxBatch exchanges, or has waited for linger.
func (r *Recorder) run() {
	defer close(r.stopped)
	timer := time.NewTimer(linger)
	timer.Stop()
	armed := false
	ticker := time.NewTicker(ageCheckEvery)
	defer ticker.Stop()
	for {
		select {
		case <-r.wake:
		case <-timer.C:
			armed = false
			r.writeQueued()
		case ack := <-r.flushReq:
			r.writeQueued()
			close(ack)
		case <-ticker.C:
			r.trimLocked()
		case <-r.done:
			r.writeQueued()
			return
		}
		// What came in meanwhile: a few are taken in at once, the batch
		// stored when full; a partial one waits for more, but no longer
		// than linger.
		for r.queued() >= r.absorbSize() {
			r.absorbQueued()
		}
		if n := r.queued() + len(r.w.entries); n > 0 && !armed {
			timer.Reset(linger)
			armed = true
		} else if n == 0 && armed {
			timer.Stop()
			armed = false
		}
	}
}

// writeQueued takes in and stores everything queued now. Exchanges
// queued while it writes wait for the next call, so a steady stream
// cannot keep a flush waiting.
func (r *Recorder) writeQueued() {
	r.absorbQueued()
	r.storeNow()
}

// absorbQueued takes in what is queued now.
func (r *Recorder) absorbQueued() {
	for n := r.queued(); n > 0; {
		batch := r.take(r.w.batch[:0], min(n, maxBatch))
		if len(batch) == 0 {
			return
		}
		n -= len(batch)
		r.absorb(batch)
		clear(batch)
		r.w.batch = batch[:0]
	}
}

// write takes in and stores batch.
func (r *Recorder) write(batch []*pending) {
	r.absorb(batch)
	r.storeNow()
}

// storeNow stores the batch built so far, however full.
func (r *Recorder) storeNow() {
	r.storeMu.Lock()
	defer r.storeMu.Unlock()
	r.storeBatch()
}

// writerState is the writer's scratch, reused from batch to batch so a
// steady load allocates little: the records of a batch live in one
// arena, its segments (keys and values) in another.
type writerState struct {
	batch   []*pending
	arena   []byte
	entries []entry
	enc     encoder
	// incoming are the IDs of the batch, for retention to make room;
	// trimIDs are retention's scratch.
	incoming, trimIDs []xid
	// order lists the entries stored, newest first; segments cuts it
	// into segments, their keys in keys and their values, one after the
	// other, in out (written to a segment file as they are).
	order     []int
	segments  []segmentOut
	keys, out []byte
	// plain is the segment being cut, before it is compressed into out.
	plain []byte
	// places are where the segments lie in segment file file: their
	// values in Badger then.
	places []byte
	file   uint64
	// blobs are the blobs to write with the batch, their values in
	// blobValues.
	blobs      []blobEntry
	blobValues []byte
}

// blobEntry is a blob to write: its value is blobValues[value:end].
type blobEntry struct {
	id         blobID
	value, end int
}

// encoder is the scratch of preparing one exchange at a time.
type encoder struct {
	scan  jsonScan
	links linkSink
	// tmp holds the masked bodies of the exchange until they are stored.
	tmp []byte

	// What prepare made of the exchange, for appendEntry: whether it
	// links (its link values are in links), the record up to its bodies,
	// the bodies as stored (in tmp or the pending's buffers) and the
	// summary but its flow. They are the writer's own buffers, reused for
	// every exchange: written into a pending's buffers, which went cold
	// while the exchange waited in the queue, they cost more than all the
	// encoding.
	linking         bool
	record, summary []byte
	bodies          [2]storedBody
}

// entry locates the records of one exchange in the arena.
type entry struct {
	id, flow      xid
	full, summary span
	// indexed says the exchange goes in the flow index: it started too
	// long before its flow for the flow's scan to find it (see
	// [flowMembers]).
	indexed bool
}

// segmentOut is a segment to write: its key in keys, its value in out,
// where it lies in places when written to a segment file, and where its
// entries start in order.
type segmentOut struct {
	key, value, place span
	first             int
}

// span is arena[start:end].
type span struct{ start, end int }

func (w *writerState) bytes(s span) []byte { return w.arena[s.start:s.end:s.end] }

// mark returns a span that ends where the arena ends now.
func (w *writerState) mark(start int) span { return span{start, len(w.arena)} }

// maxArena bounds the arena kept between batches, and the records and
// blobs of one batch give or take an exchange.
const maxArena = 4 << 20

// absorb encodes chunk into the batch being built and releases its
// pendings, storing the batch each time it fills.
func (r *Recorder) absorb(chunk []*pending) {
	r.storeMu.Lock()
	defer r.storeMu.Unlock()
	w := &r.w
	for _, p := range chunk {
		if len(w.entries) == 0 {
			w.arena, w.blobs, w.blobValues = w.arena[:0], w.blobs[:0], w.blobValues[:0]
			w.incoming = w.incoming[:0]
		}
		r.prepare(&w.enc, p)
		r.appendEntry(w, p)
		w.incoming = append(w.incoming, p.id)
		p.release()
		// A batch of large answers is stored before it is full: its
		// records and blobs stay within what the writer keeps.
		if len(w.entries) >= maxBatch || len(w.arena)+len(w.blobValues) >= maxArena {
			r.storeBatch()
		}
	}
}

// storeBatch stores the batch built so far and starts the next. Callers
// hold storeMu.
func (r *Recorder) storeBatch() {
	w := &r.w
	n := len(w.entries)
	if n == 0 {
		return
	}
	// Retention first, making room for the batch: a read never sees
	// more than the limit, not even between the two writes.
	r.trim(w.incoming)
	err := r.store(w)
	r.stopPending(n)
	if err != nil {
		// The blobs of the batch may not be there: store them again.
		r.blobs.reset()
		r.failed(err)
	} else {
		r.recorded.Add(uint64(n))
		if r.nSubs.Load() > 0 {
			// Readers need not wait for the subscribers; only this
			// goroutine changes w.
			r.storeMu.Unlock()
			r.publishBatch(w)
			r.storeMu.Lock()
		}
	}
	w.arena, w.entries = w.arena[:0], w.entries[:0]
	if cap(w.arena) > maxArena {
		w.arena = nil
	}
	if cap(w.out) > maxArena {
		w.out = nil
	}
	if cap(w.plain) > maxArena {
		w.plain = nil
	}
}

// publishBatch hands the exchanges of the batch to the subscribers as a
// reader would get them: the stored records, decoded and masked.
func (r *Recorder) publishBatch(w *writerState) {
	_ = r.db.Badger().View(func(txn *badger.Txn) error {
		blobs := newBlobReader(txn)
		for _, e := range w.entries {
			var ex Exchange
			if decodeRecord(e.id.String(), w.bytes(e.full), &ex, blobs) == nil {
				maskExchange(&ex, everything)
				r.publish(ex)
			}
		}
		return nil
	})
}

func (r *Recorder) failed(err error) {
	r.writeErrors.Add(1)
	msg := err.Error()
	r.lastErr.Store(&msg)
}

// prepare masks the passwords of p, finds its links and outcome, and
// encodes its record and summary but for the bodies' blobs and the flow,
// which depend on the exchanges before (see [Recorder.appendEntry]).
// Each body is read once: the same pass masks it, finds its links and,
// for the answer, its "stat" and "error". Nothing is decoded into maps.
func (r *Recorder) prepare(enc *encoder, p *pending) {
	p.takeRequestHeader()
	if p.url == nil {
		p.url = new(url.URL) // a pending built by hand, without one
	}
	f := recordFields{timeNS: p.start.UnixNano(), duration: p.duration, status: p.status,
		method: p.method, path: p.url.Path, host: p.host, remote: p.remote, proto: p.proto,
		reqHeader: p.reqHeader, respHeader: p.respHeader, reqTruncated: p.reqTruncated,
		respTruncated: p.respTruncated, endpoint: p.notes.Endpoint, fault: p.notes.Fault,
		script: p.notes.Script}
	// Admin calls and unknown paths carry every token there is; linking
	// them would merge unrelated journeys.
	var links *linkSink
	if f.endpoint != "" {
		links = &enc.links
		links.seed = r.linkSeed
		links.reset(strings.HasPrefix(f.endpoint, "onegini."))
	}
	enc.tmp = enc.tmp[:0]

	rawURL := p.url.RequestURI()
	f.url = maskURL(rawURL, passwords)
	if links != nil {
		if _, query, ok := strings.Cut(rawURL, "?"); ok {
			links.addForm(query)
		}
		if bearer, ok := strings.CutPrefix(p.reqAuth, "Bearer "); ok {
			links.add("at", []byte(bearer))
		}
	}

	// The request body. Its form and JSON are not stored (they are
	// derived from the body on read), only read here for links.
	switch bodyKind(p.reqType, p.reqBody) {
	case kindForm:
		f.reqBody = enc.maskedString(p.reqBody, maskForm(bytesView(p.reqBody), passwords, links))
	case kindJSON:
		s := &enc.scan
		s.reset(p.reqBody, passwords)
		s.sink, s.names, s.data = links, requestLinkKind, true
		f.reqBody = enc.maskScanned(s, links)
	default:
		f.reqBody = enc.maskLoose(p.reqBody)
	}

	// The answer: masked as its kind says, and read as JSON for links
	// and the outcome whenever it looks like JSON, whatever its type.
	body := p.respBody
	kind := bodyKind(p.respType, body)
	s := &enc.scan
	s.reset(nil, 0)
	shapeOK := false
	t := skipSpace(body, 0)
	object := t < len(body) && body[t] == '{'
	if kind == kindJSON || object || t < len(body) && body[t] == '[' {
		ru := rule(0)
		if kind == kindJSON {
			ru = passwords
		}
		s.reset(body, ru)
		s.sink, s.names, s.deep, s.data, s.shape = links, answerLinkKind, true, true, true
		f.respBody = enc.maskScanned(s, links)
		shapeOK = s.valid && object && !s.statBadType
	}
	switch {
	case len(body) == 0 || kind == kindJSON:
		// done (an empty body stays empty)
	case kind == kindForm:
		f.respBody = enc.maskedString(body, maskQuery(string(body), passwords))
	default:
		f.respBody = enc.maskLoose(body)
	}

	f.outcome = outcome(f.endpoint, f.status, f.fault != "", p.panicked, p.notes.Dropped,
		shapeOK && s.statNonEmpty, shapeOK && s.statError, shapeOK && s.hasError)
	enc.linking = links != nil
	enc.record = appendRecordHead(enc.record[:0], &f)
	enc.bodies[0] = storeBody(f.reqBody, &r.blobSeeds)
	enc.bodies[1] = storeBody(f.respBody, &r.blobSeeds)
	enc.summary = appendSummary(enc.summary[:0], &f)
	// Done with the bodies: the scanner must not keep them.
	s.reset(nil, 0)
}

// appendEntry links p, just prepared with w.enc, and appends its records
// to the arena.
func (r *Recorder) appendEntry(w *writerState, p *pending) {
	enc := &w.enc
	flow := p.id
	if enc.linking {
		flow = r.links.assign(p.id, p.start.UnixNano(), enc.links.links)
	}
	// A call that joins a flow is found by scanning the segments from
	// the flow on, unless it started long before the flow.
	e := entry{id: p.id, flow: flow, indexed: p.id.less(xid{addNS(flow.ns, -int64(segmentSpan)), 0})}
	start := len(w.arena)
	w.arena = append(w.arena, enc.record...)
	epoch := epochOf(p.id.ns)
	for i, blobFlag := range [2]uint16{flagRequestBlob, flagResponseBlob} {
		sb := &enc.bodies[i]
		if sb.blob {
			id := blobID{epoch: epoch, hash: sb.hash}
			if ref, write := r.blobs.use(id); ref {
				if write {
					w.blobs = append(w.blobs, blobEntry{id: id, value: len(w.blobValues)})
					w.blobValues = appendBlobValue(w.blobValues, sb)
					w.blobs[len(w.blobs)-1].end = len(w.blobValues)
				}
				w.arena = appendBlobRef(w.arena, start, id, blobFlag)
				continue
			}
		}
		w.arena = appendBody(w.arena, sb)
	}
	w.arena = finishRecord(w.arena, start, p.id, flow)
	e.full = w.mark(start)
	start = len(w.arena)
	w.arena = finishSummary(append(w.arena, enc.summary...), flow)
	e.summary = w.mark(start)
	w.entries = append(w.entries, e)
}

// maskScanned runs s over its body, keeping the links only when the body
// decodes as JSON, and returns the body masked: spliced when it is valid
// JSON, through the loose patterns when it is not.
func (w *encoder) maskScanned(s *jsonScan, links *linkSink) []byte {
	mark := 0
	if links != nil {
		mark = len(links.links)
	}
	valid, decodable := s.run()
	s.valid = valid
	if links != nil && !decodable {
		links.links = links.links[:mark]
	}
	switch {
	case s.ru == 0:
		return s.b
	case !valid:
		return w.maskLoose(s.b)
	case len(s.cuts) == 0:
		return s.b
	}
	start := len(w.tmp)
	w.tmp = applyCuts(w.tmp, s.b, s.cuts)
	return w.tmp[start:len(w.tmp):len(w.tmp)]
}

// maskLoose masks the passwords of a body that is neither a form nor
// valid JSON; most hold none, and skip the patterns.
func (w *encoder) maskLoose(body []byte) []byte {
	if !containsFold(body, "password") {
		return body
	}
	s := string(body)
	return w.maskedString(body, maskLoose(s, passwords))
}

// maskedString returns body when masking left it as it was, else the
// masked text, copied to the scratch buffer.
func (w *encoder) maskedString(body []byte, masked string) []byte {
	if masked == string(body) {
		return body
	}
	start := len(w.tmp)
	w.tmp = append(w.tmp, masked...)
	return w.tmp[start:len(w.tmp):len(w.tmp)]
}

// bytesView is b read as a string without copying it. Only for bytes
// that stay as they are while the string is used: the writer's view of
// a request body it owns, whose masked copy is made apart.
func bytesView(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// store writes the segments of the batch in one write and counts them.
func (r *Recorder) store(w *writerState) error {
	// Badger writes through memory maps, which crash the process
	// rather than fail when the disk is full.
	if err := r.db.CheckSpace(); err != nil {
		return err
	}
	w.cutSegments(r.horizon)
	wb := r.db.Badger().NewWriteBatch()
	defer wb.Cancel()
	// Blobs first: a record must never refer to a blob not written.
	for _, b := range w.blobs {
		if err := wb.Set(appendBlobKey(nil, b.id), w.blobValues[b.value:b.end:b.end]); err != nil {
			return err
		}
	}
	files := r.segs.files
	if files != nil {
		if err := w.writeFiles(files); err != nil {
			return err
		}
	}
	for _, s := range w.segments {
		value := w.out[s.value.start:s.value.end:s.value.end]
		if files != nil {
			value = w.places[s.place.start:s.place.end:s.place.end]
		}
		if err := wb.Set(w.keys[s.key.start:s.key.end:s.key.end], value); err != nil {
			return err
		}
	}
	for _, i := range w.order {
		if e := &w.entries[i]; e.indexed {
			if err := wb.Set(appendJoinerKey(nil, e.flow.String(), e.id), nil); err != nil {
				return err
			}
		}
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	for _, s := range w.segments {
		info := w.segmentInfo(s)
		if files != nil {
			files.stored(w.file, info.newest)
		}
		r.segs.add(info)
	}
	r.stored.Add(int64(len(w.order)))
	for _, i := range w.order {
		r.oldestNS = min(r.oldestNS, w.entries[i].id.ns)
	}
	return nil
}

// writeFiles appends the values of the batch's segments (all of out) to
// the segment files in one write, and notes in places where each lies.
func (w *writerState) writeFiles(files *segmentFiles) error {
	file, off, err := files.append(w.out)
	if err != nil {
		return err
	}
	w.file, w.places = file, w.places[:0]
	for i := range w.segments {
		s := &w.segments[i]
		start := len(w.places)
		w.places = appendPlace(w.places, place{file: file, off: off + int64(s.value.start), len: int64(s.value.end - s.value.start)})
		s.place = span{start, len(w.places)}
	}
	return nil
}

// cutSegments encodes the exchanges of the batch as segments, newest
// first. Those before the horizon are not stored: retention deleted the
// exchanges around them already, and would delete them at once.
func (w *writerState) cutSegments(horizon xid) {
	w.order = w.order[:0]
	for i := range w.entries {
		if !w.entries[i].id.less(horizon) {
			w.order = append(w.order, i)
		}
	}
	slices.SortFunc(w.order, func(a, b int) int { return w.entries[b].id.cmp(w.entries[a].id) })
	w.keys, w.out, w.segments = w.keys[:0], w.out[:0], w.segments[:0]
	for first := 0; first < len(w.order); {
		run := w.order[first:]
		n := w.segmentLen(run)
		newest, oldest := w.entries[run[0]].id, w.entries[run[n-1]].id
		key := span{len(w.keys), 0}
		w.keys = appendSegmentKey(w.keys, newest, oldest, n)
		key.end = len(w.keys)
		value := span{len(w.out), 0}
		w.plain = w.appendSegment(w.plain[:0], run[:n])
		w.out = appendPacked(w.out, w.plain)
		value.end = len(w.out)
		w.segments = append(w.segments, segmentOut{key: key, value: value, first: first})
		first += n
	}
}

// segmentInfo is what the directory keeps of a segment stored.
func (w *writerState) segmentInfo(s segmentOut) segInfo {
	info, _ := parseSegmentKey(w.keys[s.key.start:s.key.end])
	run := w.order[s.first : s.first+info.n]
	info.ids = make([]xid, info.n)
	joined := 0
	for k, i := range run {
		e := &w.entries[i]
		info.ids[k] = e.id
		if e.flow != e.id {
			joined++
		}
		if e.indexed {
			info.joiners = append(info.joiners, appendJoinerKey(nil, e.flow.String(), e.id))
		}
	}
	info.flows = newFlowFilter(joined)
	for _, i := range run {
		if e := &w.entries[i]; e.flow != e.id {
			info.flows.add(e.flow)
		}
	}
	return info
}

// segmentLen is how many of the entries of run (newest first) the next
// segment holds: those within segmentSpan of the first, up to
// maxSegmentBytes, and at least one.
func (w *writerState) segmentLen(run []int) int {
	newest := uint64(w.entries[run[0]].id.ns)
	size := 0
	for n, i := range run {
		e := &w.entries[i]
		size += e.full.end - e.full.start + e.summary.end - e.summary.start + 16
		if n > 0 && (newest-uint64(e.id.ns) > uint64(segmentSpan) || size > maxSegmentBytes || n == maxSegmentEntries) {
			return n
		}
	}
	return len(run)
}

// Clear forgets every recorded exchange and flow.
func (r *Recorder) Clear() error {
	r.Flush()
	r.storeMu.Lock()
	defer r.storeMu.Unlock()
	if err := r.db.DeletePrefix(keyPrefix); err != nil {
		return err
	}
	r.stored.Store(0)
	r.oldestNS = math.MaxInt64
	r.horizon = xid{}
	r.segs.reset(nil)
	if r.segs.files != nil {
		if err := r.segs.files.clear(); err != nil {
			return err
		}
	}
	r.links.reset()
	r.blobs.reset()
	r.blobs.horizon = 0
	return nil
}

// DropFrom deletes the exchanges recorded into db, for a server that
// keeps its request log elsewhere now. A database without any costs one
// lookup.
func DropFrom(db *storage.DB) error {
	found := false
	err := db.View(func(tx *storage.Tx) error {
		return tx.Scan(keyPrefix, false, func(string, []byte) error {
			found = true
			return storage.ErrStop
		})
	})
	if err != nil || !found {
		return err
	}
	return db.DeletePrefix(keyPrefix)
}
