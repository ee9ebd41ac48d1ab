package recorder

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"regsandbox/storage"
)

// idAt is an ID d after base.
func idAt(base time.Time, d time.Duration, seq uint32) xid {
	return xid{base.Add(d).UnixNano(), seq}
}

// pendingAt is a GET of /x/<id> that started at id's time; with a token,
// an auth_native call that links by it.
func pendingAt(id xid, token string) *pending {
	p := &pending{method: "GET", status: 200, id: id, start: time.Unix(0, id.ns)}
	p.url = &url.URL{Path: "/x/" + id.String()}
	if token != "" {
		p.method, p.reqHeader, p.reqBody = "POST", []string{"Content-Type", formType}, []byte("token="+token)
		p.respBody, p.notes.Endpoint = []byte(`{"stat":"ok"}`), "capture.auth_native"
		p.url = &url.URL{Path: "/oauth/auth_native"}
	}
	return withHeaderValues(p)
}

// writeBatch stores exchanges with the given IDs as the writer stores a
// batch, in that order.
func writeBatch(rec *Recorder, ids ...xid) {
	batch := make([]*pending, len(ids))
	for i, id := range ids {
		batch[i] = pendingAt(id, "")
	}
	rec.addPending(len(batch))
	rec.write(batch)
}

func idStrings(ids []xid) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// newestFirstIDs sorts ids newest first, as lists show them.
func newestFirstIDs(ids []xid) []string {
	s := idStrings(ids)
	slices.Sort(s)
	slices.Reverse(s)
	return s
}

// pagedIDs lists every exchange page by page, with List when full is set
// and ListSummaries otherwise.
func pagedIDs(t *testing.T, rec *Recorder, limit int, full bool) []string {
	t.Helper()
	var out []string
	q := Query{Limit: limit}
	for range 100_000 {
		var next string
		if full {
			page, err := rec.List(q)
			if err != nil {
				t.Fatal(err)
			}
			for _, ex := range page.Exchanges {
				out = append(out, ex.ID)
			}
			next = page.Next
		} else {
			rows, n, err := rec.ListSummaries(q)
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rows {
				out = append(out, row.ID)
			}
			next = n
		}
		if next == "" {
			return out
		}
		q.Before = next
	}
	t.Fatal("paging does not end")
	return nil
}

func segmentKeys(t *testing.T, rec *Recorder) []string {
	t.Helper()
	var keys []string
	for _, e := range storedEntries(t, rec) {
		if len(keys) == 0 || keys[len(keys)-1] != e.segment {
			keys = append(keys, e.segment)
		}
	}
	return keys
}

func TestSegmentRoundTrip(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	base := time.Now()
	flow := idAt(base, -time.Second, 3)
	w := &writerState{}
	ids := []xid{idAt(base, 0, 0), idAt(base, 0, 1), idAt(base, time.Millisecond, 0), idAt(base, -2*time.Second, 9)}
	for _, id := range ids {
		p := pendingAt(id, "")
		p.respBody = []byte(`{"stat":"ok","n":"` + id.String() + `"}`)
		rec.prepare(&w.enc, p)
		rec.appendEntry(w, p)
	}
	w.entries[3].flow, w.entries[3].indexed = flow, true
	run := []int{2, 1, 0, 3} // newest first
	raw := w.appendSegment(nil, run)
	entries, sumEnd, err := decodeSegment(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "entries", len(entries), len(run))
	for k, i := range run {
		e, want := entries[k], &w.entries[i]
		equal(t, "id", e.id, want.id)
		equal(t, "indexed", e.indexed, want.indexed)
		equal(t, "summary", string(raw[e.sum.start:e.sum.end]), string(w.bytes(want.summary)))
		equal(t, "record", string(raw[e.rec.start:e.rec.end]), string(w.bytes(want.full)))
		if e.sum.end > sumEnd || e.rec.start < sumEnd {
			t.Errorf("entry %d: summary %v, record %v, summaries end at %d", k, e.sum, e.rec, sumEnd)
		}
		var ex Exchange
		if err := decodeRecord(e.id.String(), raw[e.rec.start:e.rec.end], &ex, nil); err != nil {
			t.Fatal(err)
		}
		contains(t, "answer", ex.ResponseBody, e.id.String())
	}
	for k, e := range entries {
		sum, rec, found, err := findEntry(raw, e.id)
		if err != nil || !found {
			t.Fatalf("findEntry(%d) = %v, %v", k, found, err)
		}
		equal(t, "found summary", string(sum), string(raw[e.sum.start:e.sum.end]))
		equal(t, "found record", string(rec), string(raw[e.rec.start:e.rec.end]))
	}
	if _, _, found, err := findEntry(raw, flow); found || err != nil {
		t.Errorf("findEntry of another = %v, %v", found, err)
	}
	for n := range raw {
		if _, _, err := decodeSegment(raw[:n], nil); err == nil {
			t.Fatalf("a segment cut at %d of %d bytes decodes", n, len(raw))
		}
	}

	// Stored packed; read back plain, whole or damaged.
	packed := appendPacked(nil, raw)
	if packed[0] != segmentPacked || len(packed) >= len(raw) {
		t.Errorf("packed segment: first byte %d, %d bytes of %d", packed[0], len(packed), len(raw))
	}
	plain, err := new(segmentDir).plainSegment(packed)
	if err != nil || !bytes.Equal(plain, raw) {
		t.Errorf("unpacked segment differs: %v", err)
	}
	for n := 1; n < len(packed); n++ {
		err := withPlainSegment(packed[:n], func(b []byte) error {
			_, _, err := decodeSegment(b, nil)
			return err
		})
		if err == nil {
			t.Fatalf("a packed segment cut at %d of %d bytes decodes", n, len(packed))
		}
	}
	incompressible := append([]byte{segmentVersion}, randomText(1000)...)
	equal(t, "incompressible segment", string(appendPacked(nil, incompressible)), string(incompressible))

	key := appendSegmentKey(nil, ids[2], ids[3], 4)
	info, ok := parseSegmentKey(key)
	equal(t, "key", fmt.Sprint(info, ok), fmt.Sprint(segInfo{newest: ids[2], oldest: ids[3], n: 4}, true))
	for _, bad := range []string{string(key[:len(key)-1]), strings.Replace(string(key), "/", "-", 3),
		strings.ToUpper(string(key))} {
		if _, ok := parseSegmentKey([]byte(bad)); ok {
			t.Errorf("%q parses", bad)
		}
	}
}

// TestOneKeyPerBatch: a batch is one segment, whose first, middle and last
// exchanges are all found.
func TestOneKeyPerBatch(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	base := time.Now()
	var ids []xid
	for i := range 9 {
		ids = append(ids, idAt(base, time.Duration(i)*time.Millisecond, 0))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	shuffled := slices.Clone(ids)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	writeBatch(rec, shuffled...)
	equal(t, "segments", len(segmentKeys(t, rec)), 1)
	equal(t, "count", rec.Count(), len(ids))
	for _, id := range []xid{ids[0], ids[4], ids[8]} {
		equal(t, "path", mustGet(t, rec, id.String(), false).Path, "/x/"+id.String())
	}
	for _, id := range []string{idAt(base, -time.Millisecond, 0).String(), idAt(base, 0, 1).String(), "nope",
		strings.ToUpper(ids[3].String())} {
		if _, found, err := rec.Get(id, false); found || err != nil {
			t.Errorf("Get(%s) = %v, %v", id, found, err)
		}
	}
	equal(t, "listed", fmt.Sprint(pagedIDs(t, rec, 4, false)), fmt.Sprint(newestFirstIDs(ids)))
}

// TestLargeAnswersStoreBeforeTheBatchIsFull: a batch of far fewer than
// maxBatch exchanges is stored in parts once its records and blobs pass
// maxArena, so the writer's memory does not grow with the batch size.
func TestLargeAnswersStoreBeforeTheBatchIsFull(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	const n, size = 100, 60 << 10 // 6 MB in all, over maxArena
	base := time.Now()
	batch := make([]*pending, n)
	for i := range batch {
		batch[i] = pendingAt(idAt(base, time.Duration(i)*time.Microsecond, 0), "")
		batch[i].respBody = []byte(randomText(size + i)) // distinct, incompressible
	}
	rec.addPending(n)
	rec.absorb(batch)
	if stored := rec.recorded.Load(); stored == 0 || stored >= n {
		t.Fatalf("after taking in %d large exchanges, %d were stored; want some, before the batch is full", n, stored)
	}
	rec.storeNow()
	equal(t, "recorded", rec.recorded.Load(), uint64(n))
}

// TestLargeBatchIsCut: a batch of large exchanges is stored as several
// segments of bounded size.
func TestLargeBatchIsCut(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	base := time.Now()
	var ids []xid
	batch := make([]*pending, 40)
	for i := range batch {
		id := idAt(base, time.Duration(i)*time.Microsecond, 0)
		ids = append(ids, id)
		batch[i] = pendingAt(id, "")
		batch[i].respBody = []byte(randomText(4000 + i)) // distinct, incompressible
	}
	rec.addPending(len(batch))
	rec.write(batch)
	keys := segmentKeys(t, rec)
	if len(keys) < 3 {
		t.Errorf("%d segments for 160 KB", len(keys))
	}
	for _, e := range storedEntries(t, rec) {
		if len(e.rec) < 4000 {
			t.Errorf("record of %d bytes", len(e.rec))
		}
	}
	equal(t, "listed", fmt.Sprint(pagedIDs(t, rec, 7, true)), fmt.Sprint(newestFirstIDs(ids)))
	for i, id := range ids {
		equal(t, "body", mustGet(t, rec, id.String(), true).ResponseBody, randomText(4000+i))
	}
}

// TestReadsWhileWriting reads while the writer stores and trims.
func TestReadsWhileWriting(t *testing.T) {
	t.Parallel()
	const limit = 300
	rec := newTestRecorder(t, WithLimit(limit))
	h := rec.Wrap(okHandler())
	done := make(chan struct{})
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				rows, _, err := rec.ListSummaries(Query{Limit: MaxPage})
				if err == nil && len(rows) > limit {
					err = fmt.Errorf("%d rows listed", len(rows))
				}
				if err == nil && len(rows) > 0 {
					_, _, err = rec.Get(rows[len(rows)/2].ID, false)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 2000 {
		call{method: "GET", path: fmt.Sprintf("/n/%d", i)}.send(h)
	}
	close(done)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Retention trims in steps: at most the limit, at least the limit
	// less one step.
	if n := rec.Count(); n > limit || n < limit-int(trimSlack(limit)) {
		t.Errorf("count = %d, want %d..%d", n, limit-trimSlack(limit), limit)
	}
	equal(t, "listed", len(ids(t, rec)), rec.Count())
}

// TestSegmentsOverlap: calls answered late land in later batches; slow
// ones get a segment of their own. Lists still go newest first across
// the segments, page by page, and every exchange is found.
func TestSegmentsOverlap(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	base := time.Now().Add(-time.Hour)
	rng := rand.New(rand.NewPCG(3, 4))
	var all []xid
	at := time.Duration(0)
	for range 40 {
		// A batch: the calls answered in the last 30 ms, a few that
		// started up to 300 ms before, now and then one 2 s before.
		var batch []xid
		for range rng.IntN(12) + 1 {
			started := at - time.Duration(rng.IntN(30))*time.Millisecond
			switch rng.IntN(10) {
			case 0:
				started -= time.Duration(rng.IntN(300)) * time.Millisecond
			case 1:
				started -= 2 * time.Second
			}
			id := idAt(base, started, uint32(len(all)))
			batch, all = append(batch, id), append(all, id)
		}
		writeBatch(rec, batch...)
		at += 30 * time.Millisecond
	}
	keys := segmentKeys(t, rec)
	if len(keys) <= 40 {
		t.Errorf("%d segments for 40 batches with slow calls", len(keys))
	}
	for _, k := range keys {
		s, _ := parseSegmentKey([]byte(k))
		if span := time.Duration(s.newest.ns - s.oldest.ns); span > segmentSpan {
			t.Errorf("segment %s spans %v", k, span)
		}
	}
	want := fmt.Sprint(newestFirstIDs(all))
	for _, limit := range []int{1, 3, 50, 1000} {
		equal(t, fmt.Sprint("summaries by ", limit), fmt.Sprint(pagedIDs(t, rec, limit, false)), want)
		equal(t, fmt.Sprint("exchanges by ", limit), fmt.Sprint(pagedIDs(t, rec, limit, true)), want)
	}
	for _, id := range all {
		mustGet(t, rec, id.String(), false)
	}
	// Any string is a cursor, as it was.
	for _, before := range []string{"", "zzz", "0", all[7].String()[:10], strings.ToUpper(all[7].String())} {
		rows, _, err := rec.ListSummaries(Query{Before: before, Limit: MaxPage})
		if err != nil {
			t.Fatal(err)
		}
		var got, wantRows []string
		for _, r := range rows {
			got = append(got, r.ID)
		}
		for _, id := range newestFirstIDs(all) {
			if before == "" || id < before {
				wantRows = append(wantRows, id)
			}
		}
		equal(t, "before "+before, fmt.Sprint(got), fmt.Sprint(wantRows))
	}
}

// TestRetentionKeepsSegmentsWhole: retention deletes segments once all of
// their exchanges are too many; until then it hides the oldest of them,
// and counts, lists, gets and flows never show more than the limit.
func TestRetentionKeepsSegmentsWhole(t *testing.T) {
	t.Parallel()
	const limit = 10
	rec := newTestRecorder(t, WithLimit(limit))
	base := time.Now()
	var all []xid
	for b := range 8 {
		var batch []xid
		for i := range 7 {
			// The last of each batch started before the batch before.
			d, seq := time.Duration(b*7+i)*time.Millisecond, uint32(0)
			if i == 6 && b > 0 {
				d, seq = d-8*time.Millisecond, 1
			}
			batch = append(batch, idAt(base, d, seq))
		}
		writeBatch(rec, batch...)
		all = append(all, batch...)
		kept := newestFirstIDs(all)[:min(len(all), limit)]
		equal(t, "count", rec.Count(), len(kept))
		equal(t, "stats", rec.Stats().Stored, len(kept))
		equal(t, "listed", fmt.Sprint(pagedIDs(t, rec, 3, false)), fmt.Sprint(kept))
		page, err := rec.List(Query{Limit: MaxPage})
		equal(t, "error", err, nil)
		equal(t, "total", page.Total, len(kept))
		equal(t, "listed in full", len(page.Exchanges), len(kept))
		for _, id := range idStrings(all) {
			_, found, err := rec.Get(id, false)
			equal(t, "error", err, nil)
			equal(t, id+" found", found, slices.Contains(kept, id))
		}
		// Segments wholly beyond the limit are gone; the ones left
		// hide a few of their exchanges at most.
		entries := storedEntries(t, rec)
		if len(entries) > len(kept)+12 {
			t.Errorf("batch %d: %d exchanges stored for %d kept", b, len(entries), len(kept))
		}
		for _, k := range segmentKeys(t, rec) {
			s, _ := parseSegmentKey([]byte(k))
			if !slices.Contains(kept, s.newest.String()) {
				t.Errorf("batch %d: segment %s holds nothing kept", b, k)
			}
		}
	}
	rec.SetRetention(3, 0)
	equal(t, "count after lowering", rec.Count(), 3)
	equal(t, "listed after lowering", fmt.Sprint(pagedIDs(t, rec, 2, true)), fmt.Sprint(newestFirstIDs(all)[:3]))
	rec.SetRetention(100, 0) // what was deleted stays deleted
	equal(t, "count after raising", rec.Count(), 3)
}

// TestRetentionByAgeWithinASegment: exchanges of one batch that grow too
// old go one by one.
func TestRetentionByAgeWithinASegment(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	rec := newTestRecorder(t, WithClock(clock.Now), WithMaxAge(time.Hour))
	base := clock.Now()
	var ids []xid
	for i := range 5 {
		ids = append(ids, idAt(base, time.Duration(i)*time.Minute/1000, 0))
	}
	writeBatch(rec, ids...)
	equal(t, "segments", len(segmentKeys(t, rec)), 1)
	clock.Advance(time.Hour + 2*time.Minute/1000)
	rec.trimLocked()
	equal(t, "count", rec.Count(), 2)
	equal(t, "listed", fmt.Sprint(pagedIDs(t, rec, 10, false)), fmt.Sprint(newestFirstIDs(ids[3:])))
	clock.Advance(time.Minute)
	rec.trimLocked()
	equal(t, "count", rec.Count(), 0)
	equal(t, "segments", len(segmentKeys(t, rec)), 0)
	// Calls that started before what retention deleted are not stored.
	writeBatch(rec, ids[0], idAt(clock.Now(), 0, 0))
	equal(t, "count", rec.Count(), 1)
}

// TestOldJoinerIsIndexed: a call that started long before the flow it
// joins is found through the flow index, which retention cleans up.
func TestOldJoinerIsIndexed(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	base := time.Now()
	starter := pendingAt(idAt(base, 0, 0), "tok-joined-0001")
	near := pendingAt(idAt(base, -segmentSpan/2, 0), "tok-joined-0001")
	far := pendingAt(idAt(base, -3*segmentSpan, 0), "tok-joined-0001")
	later := pendingAt(idAt(base, time.Hour, 0), "tok-joined-0001")
	farID := far.id
	ids := idStrings([]xid{far.id, near.id, starter.id, later.id})
	// Written, the pendings are released.
	rec.addPending(2)
	rec.write([]*pending{starter, near})
	rec.addPending(2)
	rec.write([]*pending{far, later})
	flowIDs := func() []string {
		flow, err := rec.Flow(ids[2])
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ex := range flow {
			got = append(got, ex.ID)
			equal(t, "flow", ex.FlowID, ids[2])
		}
		return got
	}
	equal(t, "flow", fmt.Sprint(flowIDs()), fmt.Sprint(ids))
	rows, next, err := rec.ListSummaries(Query{FlowID: ids[2], Limit: 2, Before: ids[3]})
	equal(t, "error", err, nil)
	equal(t, "rows", fmt.Sprint(rows[0].ID, rows[1].ID, next), fmt.Sprint(ids[2], ids[1], ids[1]))
	var indexed []xid
	for _, e := range storedEntries(t, rec) {
		if e.indexed {
			indexed = append(indexed, e.id)
		}
	}
	equal(t, "indexed", fmt.Sprint(indexed), fmt.Sprint([]xid{farID}))
	equal(t, "index keys", joinerKeys(t, rec.db), 1)

	rec.SetRetention(3, 0) // far's segment goes, and its index key
	equal(t, "index keys", joinerKeys(t, rec.db), 0)
	equal(t, "flow", fmt.Sprint(flowIDs()), fmt.Sprint(ids[1:]))
	rec.SetRetention(1, 0)
	equal(t, "flow", fmt.Sprint(flowIDs()), fmt.Sprint(ids[3:]))
}

func joinerKeys(t *testing.T, db *storage.DB) int {
	t.Helper()
	n := 0
	err := db.Badger().View(func(txn *badger.Txn) error {
		it := keyOnly(txn, keyJoiner, false)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSegmentsSurviveRestart: on disk, a restart keeps the count, the
// listing and the hidden exchanges hidden, and new IDs follow the stored
// ones even when the clock went back.
func TestSegmentsSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	open := func() *storage.DB {
		db, err := storage.Open(storage.Options{Dir: dir, Log: true})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	clock := newFakeClock()
	db := open()
	rec := New(db, WithClock(clock.Now), WithLimit(12))
	b := newBackend()
	h := rec.Wrap(b.router)
	b.script("/oauth/register_native", bigAnswer("restart-marker")) // stored as a blob from the second on
	for i := range 20 {
		call{path: "/oauth/register_native", contentType: formType, body: fmt.Sprintf("firstName=n%d", i)}.send(h)
		if i%7 == 6 {
			rec.Flush() // a few batches
		}
	}
	before := pagedIDs(t, rec, 5, true)
	equal(t, "count", rec.Count(), 12)
	rec.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open()
	defer db.Close()
	clock.Advance(-time.Hour)
	again := New(db, WithClock(clock.Now), WithLimit(12))
	defer again.Close()
	equal(t, "count after a restart", again.Count(), 12)
	equal(t, "listed after a restart", fmt.Sprint(pagedIDs(t, again, 5, true)), fmt.Sprint(before))
	for _, ex := range mustList(t, again) {
		contains(t, "body", ex.ResponseBody, "restart-marker")
	}
	call{path: "/oauth/register_native", contentType: formType, body: "firstName=after"}.send(again.Wrap(b.router))
	equal(t, "count", again.Count(), 12)
	ex := newest(t, again)
	equal(t, "newest", ex.RequestBody, "firstName=after")
	if ex.ID <= before[0] {
		t.Errorf("new ID %s is not after %s", ex.ID, before[0])
	}
	equal(t, "listed", fmt.Sprint(pagedIDs(t, again, 5, false)), fmt.Sprint(append([]string{ex.ID}, before[:11]...)))
}

// TestClearDropsSegments: Clear leaves no key behind, and recording
// starts over.
func TestClearDropsSegments(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t, WithLimit(5))
	sendN(rec.Wrap(okHandler()), 12)
	if err := rec.Clear(); err != nil {
		t.Fatal(err)
	}
	err := rec.db.Badger().View(func(txn *badger.Txn) error {
		it := keyOnly(txn, keyPrefix, false)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			t.Errorf("%s left", it.Item().Key())
		}
		return nil
	})
	equal(t, "error", err, nil)
	sendN(rec.Wrap(okHandler()), 7)
	equal(t, "count", rec.Count(), 5)
	equal(t, "listed", len(ids(t, rec)), 5)
}

func TestFlowFilter(t *testing.T) {
	t.Parallel()
	base := time.Now()
	for _, n := range []int{0, 1, 30, 100, 256} {
		f := newFlowFilter(n)
		for i := range n {
			f.add(idAt(base, time.Duration(i)*time.Millisecond, uint32(i)))
		}
		for i := range n {
			if !f.mayHold(idAt(base, time.Duration(i)*time.Millisecond, uint32(i))) {
				t.Fatalf("%d flows: flow %d not held", n, i)
			}
		}
		fp := 0
		for i := range 10_000 {
			if f.mayHold(idAt(base, -time.Duration(i+1)*time.Microsecond, 0)) {
				fp++
			}
		}
		if fp > 500 {
			t.Errorf("%d flows: %d false positives in 10000", n, fp)
		}
	}
}

// TestFirstKeptSelectsWhatASortWould holds the selection in firstKept to
// its definition: sort, skip the excess oldest, then those older than
// the cutoff. Inputs are nearly sorted, as the writer's are, shuffled,
// and full of equal times.
func TestFirstKeptSelectsWhatASortWould(t *testing.T) {
	sortFirstKept := func(ids []xid, excess, cutoff int64) (xid, bool) {
		ids = slices.Clone(ids)
		slices.SortFunc(ids, xid.cmp)
		k := int(max(excess, 0))
		for k < len(ids) && ids[k].ns < cutoff {
			k++
		}
		if k >= len(ids) {
			return xid{}, false
		}
		return ids[k], true
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 2000 {
		n := rng.IntN(300)
		ids := make([]xid, n)
		for i := range ids {
			ids[i] = xid{ns: 1_000 + int64(i/3), seq: uint32(i % 3)}
		}
		switch round % 3 {
		case 0: // segments newest first, read oldest segment first
			for start := 0; start < n; start += 16 {
				slices.Reverse(ids[start:min(start+16, n)])
			}
		case 1:
			rng.Shuffle(n, func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		case 2: // many equal
			for i := range ids {
				ids[i] = xid{ns: 1_000 + int64(rng.IntN(5)), seq: uint32(rng.IntN(2))}
			}
		}
		excess := int64(rng.IntN(n+2)) - 1
		cutoff := int64(1_000 + rng.IntN(n/3+2))
		want, wantOK := sortFirstKept(ids, excess, cutoff)
		got, ok := firstKept(slices.Clone(ids), excess, cutoff)
		if got != want || ok != wantOK {
			t.Fatalf("round %d: firstKept(%d ids, excess %d, cutoff %d) = %v, %t; a sort gives %v, %t",
				round, n, excess, cutoff, got, ok, want, wantOK)
		}
	}
}
