package recorder

import (
	"math"
	"time"

	"github.com/dgraph-io/badger/v4"

	"regsandbox/storage"
)

// Retention keeps the newest exchanges, up to the limit, and none older
// than the maximum age, counting by exchange ID. It deletes whole
// segments: between trims it keeps a horizon, stored under recorder/h,
// and the exchanges before it are deleted, even while the segment that
// holds them, with later ones, is still stored (a segment goes once all
// of its exchanges are before the horizon). Every read skips them, so
// counts, lists, lookups and flows never show more than the limit. The
// horizon only moves forward, across restarts too: what is deleted stays
// deleted when the limit is raised, and a call that started before it
// but was answered after (older than everything retention deleted) is
// published but not stored.

// trimLocked trims outside of a batch, when the retention changed or time
// passed. Errors are counted in [Stats].
func (r *Recorder) trimLocked() {
	r.storeMu.Lock()
	defer r.storeMu.Unlock()
	r.trim(nil)
}

// trim deletes the oldest exchanges beyond the limit and those older than
// the maximum age, counting in the IDs of a batch about to be stored
// (it keeps the slice). The in-memory count and oldest time make the
// common case, nothing to do, free. Callers hold storeMu.
func (r *Recorder) trim(incoming []xid) {
	if r.db.CheckSpace() != nil {
		return // deleting writes too; the next trim catches up
	}
	// What the batch brings in counts, and keeps its blobs.
	kept := incoming[:0]
	for _, id := range incoming {
		if !id.less(r.horizon) {
			kept = append(kept, id)
			r.oldestNS = min(r.oldestNS, id.ns)
		}
	}
	limit := r.limit.Load()
	excess := r.stored.Load() + int64(len(kept)) - limit
	cutoff := r.now().Add(-time.Duration(r.maxAge.Load())).UnixNano()
	if excess > 0 || r.oldestNS < cutoff {
		if excess > 0 {
			// Room for the next batches too: at the limit, a trim per
			// batch was a tenth of the writer's work.
			excess += trimSlack(limit)
		}
		if err := r.deleteOldest(kept, excess, cutoff); err != nil {
			r.failed(err)
			return
		}
	}
	if err := r.collectBlobs(); err != nil {
		r.failed(err)
	}
}

// trimSlack is how many exchanges beyond the excess a trim deletes, so
// that a recorder at its limit trims once every many batches rather than
// for each one: it keeps between limit − trimSlack and limit exchanges. A
// small limit (under 64) stays exact.
func trimSlack(limit int64) int64 { return limit / 64 }

// trimmed is what a trim read of the oldest segments.
type trimmed struct {
	// ids are the kept exchanges of the batch and of the segments read,
	// fresh how many of them are young enough to keep.
	ids   []xid
	fresh int
	// read is how many of the oldest segments were read.
	read int
}

// deleteOldest moves the horizon past the excess oldest exchanges and
// those older than cutoff, the incoming ones (not stored yet) included,
// and deletes the segments that are then wholly before it. Retention is
// exact: a segment that also holds later exchanges stays until they go
// too, and reads skip the rest.
func (r *Recorder) deleteOldest(incoming []xid, excess, cutoff int64) error {
	t := trimmed{ids: append(r.w.trimIDs[:0], incoming...)}
	defer func() { r.w.trimIDs = t.ids[:0] }()
	for _, id := range incoming {
		if id.ns >= cutoff {
			t.fresh++
		}
	}
	horizon, found, err := r.findHorizon(&t, excess, cutoff)
	if err != nil {
		return err
	}
	if horizon.less(r.horizon) {
		horizon = r.horizon
	}
	wb := r.db.Badger().NewWriteBatch()
	defer wb.Cancel()
	// The horizon first: should the write be split, no segment is gone
	// before the exchanges in it are hidden.
	if horizon != r.horizon {
		if err := wb.Set([]byte(keyHorizon), []byte(horizon.String())); err != nil {
			return err
		}
	}
	// The segments wholly before the horizon are the oldest, all read.
	for _, s := range r.segs.live()[:t.read] {
		if !s.newest.less(horizon) {
			continue
		}
		if err := wb.Delete(s.key()); err != nil {
			return err
		}
		for _, k := range s.joiners {
			if err := wb.Delete(k); err != nil {
				return err
			}
		}
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	r.segs.dropBefore(horizon)
	if r.segs.files != nil {
		if err := r.segs.files.dropBefore(horizon); err != nil {
			r.failed(err) // only disk left taken; the exchanges are gone
		}
	}
	// Those of the batch were not counted yet; the store counts the
	// ones kept.
	hidden := 0
	for _, id := range t.ids {
		if id.less(horizon) {
			hidden++
		}
	}
	for _, id := range incoming {
		if id.less(horizon) {
			hidden--
		}
	}
	r.stored.Add(-int64(hidden))
	r.horizon = horizon
	r.oldestNS = math.MaxInt64
	if found {
		r.oldestNS = horizon.ns
	}
	return nil
}

// findHorizon goes through the oldest segments until it knows the oldest
// exchange to keep, which becomes the horizon; found is false when none
// is kept, and the horizon is then past every exchange. The directory
// knows the IDs of the segments written since the start; the others are
// read once.
func (r *Recorder) findHorizon(t *trimmed, excess, cutoff int64) (horizon xid, found bool, err error) {
	segs := r.segs.live()
	var txn *badger.Txn
	defer func() {
		if txn != nil {
			txn.Discard()
		}
	}()
	for ; ; t.read++ {
		// Until enough are read to keep one, sorting what is read is
		// wasted.
		if int64(len(t.ids)) > excess && t.fresh > 0 {
			if k, ok := firstKept(t.ids, excess, cutoff); ok && !mayHoldBefore(segs[t.read:], k) {
				return k, true, nil
			}
		}
		if t.read == len(segs) {
			// Nothing is kept: the horizon goes past everything.
			horizon = r.horizon
			if len(segs) > 0 {
				horizon = xid{addNS(segs[len(segs)-1].newest.ns, 1), 0}
			}
			for _, id := range t.ids {
				if !id.less(horizon) {
					horizon = xid{addNS(id.ns, 1), 0}
				}
			}
			// (A cutoff before 1970 is none.)
			if cut := (xid{cutoff, 0}); horizon.less(cut) && cutoff > 0 {
				horizon = cut
			}
			return horizon, false, nil
		}
		s := &segs[t.read]
		if s.ids == nil {
			if txn == nil {
				txn = r.db.Badger().NewTransaction(false)
			}
			read, err := r.segs.readIDs(txn, s)
			if err != nil {
				return horizon, false, err
			}
			r.segs.know(t.read, read)
		}
		for _, id := range s.ids {
			if !id.less(r.horizon) {
				t.ids = append(t.ids, id)
				if id.ns >= cutoff {
					t.fresh++
				}
			}
		}
	}
}

// readIDs reads what the directory keeps of a segment found at the start.
func (d *segmentDir) readIDs(txn *badger.Txn, s *segInfo) (segInfo, error) {
	read := segInfo{ids: []xid{}} // a segment gone reads as empty
	var flows []xid
	_, err := d.readSegment(txn, s, func(raw []byte) error {
		entries, _, err := decodeSegment(raw, nil)
		if err != nil {
			return err
		}
		for _, e := range entries {
			read.ids = append(read.ids, e.id)
			flow := summaryFlow(raw[e.sum.start:e.sum.end])
			if f, ok := parseID(flow); ok && f != e.id {
				flows = append(flows, f)
			}
			if e.indexed {
				read.joiners = append(read.joiners, appendJoinerKey(nil, flow, e.id))
			}
		}
		return nil
	})
	read.flows = newFlowFilter(len(flows))
	for _, f := range flows {
		read.flows.add(f)
	}
	return read, err
}

// mayHoldBefore reports whether one of segs (by newest ID) may hold an
// exchange before id.
func mayHoldBefore(segs []segInfo, id xid) bool {
	for _, s := range segs {
		if id.less(xid{addNS(s.newest.ns, -int64(segmentSpan)), 0}) {
			return false // nor may the later ones
		}
		if s.oldest.less(id) {
			return true
		}
	}
	return false
}

// firstKept returns the oldest exchange that retention keeps among ids:
// the excess oldest go, and those older than cutoff. Those older than
// cutoff are the oldest, so it is the one a sort would put after both:
// found by selection, which the writer does after each batch (a sort
// cost it more than storing). It reorders ids.
func firstKept(ids []xid, excess, cutoff int64) (xid, bool) {
	older := 0
	for _, id := range ids {
		if id.ns < cutoff {
			older++
		}
	}
	k := max(int(max(excess, 0)), older)
	if k >= len(ids) {
		return xid{}, false
	}
	return nthOldest(ids, k), true
}

// nthOldest reorders ids so that ids[n] is the one a sort would put
// there, and returns it (quickselect; ids arrive nearly sorted, which the
// middle pivot suits).
func nthOldest(ids []xid, n int) xid {
	lo, hi := 0, len(ids)-1
	for lo < hi {
		pivot := ids[lo+(hi-lo)/2]
		i, j := lo, hi
		for i <= j {
			for ids[i].less(pivot) {
				i++
			}
			for pivot.less(ids[j]) {
				j--
			}
			if i <= j {
				ids[i], ids[j] = ids[j], ids[i]
				i++
				j--
			}
		}
		switch {
		case n <= j:
			hi = j
		case n >= i:
			lo = i
		default:
			return ids[n]
		}
	}
	return ids[n]
}

// noteFile tells the segment files which of them holds the segment of
// item, when it lies in one; present is false when that file is missing.
func (r *Recorder) noteFile(item *badger.Item, s *segInfo) (present bool, err error) {
	if r.segs.files == nil || item.ValueSize() > maxPlaceLen {
		return true, nil
	}
	present = true
	err = item.Value(func(v []byte) error {
		if p, ok := parsePlace(v); ok {
			present = r.segs.files.stored(p.file, s.newest)
		}
		return nil
	})
	return present, err
}

// loadCount counts what is stored, lists the segments, finds the oldest
// exchange kept and makes new IDs follow the stored ones, reading keys
// only but for the segments the horizon cuts through.
func (r *Recorder) loadCount() {
	r.oldestNS = math.MaxInt64
	if err := dropLegacy(r.db); err != nil {
		r.failed(err)
	}
	var n int64
	var segs []segInfo
	var stale [][]byte
	err := r.db.Badger().View(func(txn *badger.Txn) error {
		var err error
		if r.horizon, err = loadHorizon(txn); err != nil {
			return err
		}
		it := keyOnly(txn, keySegment, false)
		defer it.Close()
		var entries []segEntry
		for it.Rewind(); it.Valid(); it.Next() {
			s, ok := parseSegmentKey(it.Item().Key())
			switch {
			case !ok:
				continue
			case s.newest.less(r.horizon):
				// A trim that stopped between its writes.
				stale = append(stale, it.Item().KeyCopy(nil))
				continue
			}
			switch present, err := r.noteFile(it.Item(), &s); {
			case err != nil:
				return err
			case !present:
				// Its file was deleted by hand: the key would count
				// exchanges no read finds.
				stale = append(stale, it.Item().KeyCopy(nil))
				continue
			}
			segs = append(segs, s)
			if !s.oldest.less(r.horizon) {
				n += int64(s.n)
				r.oldestNS = min(r.oldestNS, s.oldest.ns)
				continue
			}
			err := it.Item().Value(func(stored []byte) error {
				_, err := r.segs.withStored(stored, func(raw []byte) error {
					var err error
					if entries, _, err = decodeSegment(raw, entries); err != nil {
						return err
					}
					for _, e := range entries {
						if !e.id.less(r.horizon) {
							n++
							r.oldestNS = min(r.oldestNS, e.id.ns)
						}
					}
					return nil
				})
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && len(stale) > 0 {
		err = deleteKeys(r.db, stale)
	}
	if err != nil {
		r.failed(err)
	}
	r.segs.reset(segs)
	if r.segs.files != nil && err == nil {
		// Files no kept segment lies in: deleted segments' after a crash.
		if err := r.segs.files.dropUnused(); err != nil {
			r.failed(err)
		}
	}
	r.stored.Store(n)
	// A clock that went back since must not make IDs that are stored
	// already, or that retention deleted.
	last := r.horizon
	if len(segs) > 0 && last.less(segs[len(segs)-1].newest) {
		last = segs[len(segs)-1].newest
	}
	r.ids.lastNS, r.ids.seq = last.ns, last.seq
}

// deleteKeys deletes keys in one write.
func deleteKeys(db *storage.DB, keys [][]byte) error {
	wb := db.Badger().NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			return err
		}
	}
	return wb.Flush()
}

// legacyPrefixes are the keys of the layout before segments: a full
// record, a summary and a flow index entry per exchange.
var legacyPrefixes = [][]byte{[]byte(keyPrefix + "x/"), []byte(keyPrefix + "s/"), []byte(keyPrefix + "f/")}

// dropLegacy deletes the exchanges stored in the layout before segments:
// the first start of this version forgets what earlier ones recorded.
// Reading both layouts would take a second path through every read, for
// a log of calls to a mock that keeps them for days at most. A database
// without any costs a lookup per prefix.
func dropLegacy(db *storage.DB) error {
	found := false
	err := db.Badger().View(func(txn *badger.Txn) error {
		for _, prefix := range legacyPrefixes {
			it := keyOnly(txn, string(prefix), false)
			it.Rewind()
			found = found || it.Valid()
			it.Close()
		}
		return nil
	})
	if err != nil || !found {
		return err
	}
	if err := db.CheckSpace(); err != nil {
		return err
	}
	return db.Badger().DropPrefix(legacyPrefixes...)
}
