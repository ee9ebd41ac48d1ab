package recorder

import (
	"encoding/json"
	"math"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Keys. Every exchange has a full record, a summary and an entry in its
// flow's index; all three sort by exchange ID.
const (
	keyPrefix  = "recorder/"
	keyFull    = keyPrefix + "x/"
	keySummary = keyPrefix + "s/"
	keyFlow    = keyPrefix + "f/"
)

// ageCheckEvery is how often an idle recorder drops exchanges that grew
// too old.
const ageCheckEvery = time.Minute

// run is the writer: it collects queued exchanges into batches and
// stores each batch in one write.
func (r *Recorder) run() {
	defer close(r.stopped)
	var batch []*pending
	timer := time.NewTimer(linger)
	timer.Stop()
	ticker := time.NewTicker(ageCheckEvery)
	defer ticker.Stop()
	for {
		select {
		case p := <-r.queue:
			if batch = append(batch, p); len(batch) == 1 {
				timer.Reset(linger)
			}
			if len(batch) >= maxBatch {
				batch = r.write(batch)
				timer.Stop()
			}
		case <-timer.C:
			batch = r.write(batch)
		case ack := <-r.flushReq:
			batch = r.write(r.drain(batch))
			timer.Stop()
			close(ack)
		case <-ticker.C:
			r.trimLocked()
		case <-r.done:
			r.write(r.drain(batch))
			return
		}
	}
}

// drain adds everything queued right now to batch.
func (r *Recorder) drain(batch []*pending) []*pending {
	for {
		select {
		case p := <-r.queue:
			batch = append(batch, p)
		default:
			return batch
		}
	}
}

// write stores batch (in chunks of maxBatch), trims, publishes, and
// returns the emptied batch for reuse.
func (r *Recorder) write(batch []*pending) []*pending {
	for len(batch) > 0 {
		n := min(len(batch), maxBatch)
		r.writeChunk(batch[:n])
		clear(batch[:n])
		batch = batch[n:]
	}
	return batch[:0]
}

func (r *Recorder) writeChunk(chunk []*pending) {
	r.storeMu.Lock()
	exs := make([]*Exchange, len(chunk))
	for i, p := range chunk {
		ex := build(p)
		ex.FlowID = ex.ID
		if ex.Endpoint != "" {
			// Admin calls and unknown paths carry every token there
			// is; linking them would merge unrelated journeys.
			ex.FlowID = r.links.assign(ex, linkKeys(ex))
		}
		maskExchange(ex, passwords)
		exs[i] = ex
	}
	err := r.store(exs)
	r.pendingN.Add(-int64(len(chunk)))
	if err != nil {
		r.storeMu.Unlock()
		r.failed(err)
		return
	}
	r.trim()
	r.storeMu.Unlock()
	r.recorded.Add(uint64(len(exs)))
	for _, ex := range exs {
		maskExchange(ex, everything)
		r.publish(*ex)
	}
}

func (r *Recorder) failed(err error) {
	r.writeErrors.Add(1)
	msg := err.Error()
	r.lastErr.Store(&msg)
}

// store writes the exchanges in one batch and counts them.
func (r *Recorder) store(exs []*Exchange) error {
	wb := r.db.Badger().NewWriteBatch()
	defer wb.Cancel()
	for _, ex := range exs {
		raw, err := json.Marshal(ex)
		if err != nil {
			return err
		}
		if err := wb.Set([]byte(keyFull+ex.ID), raw); err != nil {
			return err
		}
		if err := wb.Set([]byte(keySummary+ex.ID), encodeSummary(ex)); err != nil {
			return err
		}
		if err := wb.Set([]byte(flowKey(ex.FlowID, ex.ID)), nil); err != nil {
			return err
		}
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	r.stored.Add(int64(len(exs)))
	for _, ex := range exs {
		if ns, ok := idNanos(ex.ID); ok && ns < r.oldestNS {
			r.oldestNS = ns
		}
	}
	return nil
}

func flowKey(flow, id string) string { return keyFlow + flow + "/" + id }

// trimLocked trims outside of a batch, when the retention changed or time
// passed. Errors are counted in [Stats].
func (r *Recorder) trimLocked() {
	r.storeMu.Lock()
	defer r.storeMu.Unlock()
	r.trim()
}

// trim deletes the oldest exchanges beyond the limit and those older than
// the maximum age. The in-memory count and oldest time make the common
// case, nothing to do, free. Callers hold storeMu.
func (r *Recorder) trim() {
	excess := r.stored.Load() - r.limit.Load()
	cutoff := r.now().Add(-time.Duration(r.maxAge.Load())).UnixNano()
	if excess <= 0 && r.oldestNS >= cutoff {
		return
	}
	if err := r.deleteOldest(excess, cutoff); err != nil {
		r.failed(err)
	}
}

// deleteOldest walks the summaries oldest first, deleting while there are
// too many or they are too old.
func (r *Recorder) deleteOldest(excess int64, cutoff int64) error {
	wb := r.db.Badger().NewWriteBatch()
	defer wb.Cancel()
	var deleted int64
	oldest := int64(math.MaxInt64)
	err := r.db.Badger().View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(keySummary)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id := string(it.Item().Key()[len(keySummary):])
			ns, _ := idNanos(id)
			if deleted >= excess && ns >= cutoff {
				oldest = ns
				return nil
			}
			if err := r.deleteOne(wb, it.Item(), id); err != nil {
				return err
			}
			deleted++
		}
		return nil
	})
	if err == nil {
		err = wb.Flush()
	}
	if err != nil {
		return err
	}
	r.stored.Add(-deleted)
	r.oldestNS = oldest
	return nil
}

func (r *Recorder) deleteOne(wb *badger.WriteBatch, item *badger.Item, id string) error {
	var flow string
	err := item.Value(func(raw []byte) error {
		if v, ok := parseSummary(raw); ok {
			flow = string(v.flow)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range []string{keyFull + id, keySummary + id, flowKey(flow, id)} {
		if err := wb.Delete([]byte(k)); err != nil {
			return err
		}
	}
	return nil
}

// loadCount counts what is stored and finds the oldest exchange, reading
// keys only.
func (r *Recorder) loadCount() {
	r.oldestNS = math.MaxInt64
	var n int64
	err := r.db.Badger().View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix, opts.PrefetchValues = []byte(keySummary), false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if n == 0 {
				r.oldestNS, _ = idNanos(string(it.Item().Key()[len(keySummary):]))
			}
			n++
		}
		return nil
	})
	if err != nil {
		r.failed(err)
	}
	r.stored.Store(n)
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
	r.links.reset()
	return nil
}
