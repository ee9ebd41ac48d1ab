package recorder

import (
	"errors"
	"hash/maphash"
	"math"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/klauspost/compress/s2"
)

// Bodies that repeat — the same flow document, the same error answer —
// are stored once per epoch as blobs, under
//
//	recorder/b/<epoch, 16 hex digits>/<hash, 32 hex digits>
//
// and records refer to them. An epoch is a span of [blobEpoch] of
// exchange IDs, and an exchange only refers to blobs of its own epoch,
// so once the oldest exchange kept is in a later epoch, no record refers
// to the blobs of the earlier ones: trimming deletes them by key range,
// with no reference counts to keep. A body is stored inline the first
// time it is seen in an epoch, and as a blob from the second time on, so
// bodies that never repeat cost no blob.
const (
	keyBlob   = keyPrefix + "b/"
	blobEpoch = 10 * time.Minute
	// blobValue* is the first byte of a blob: how the body is stored.
	blobValuePlain      = 0
	blobValueCompressed = 1
)

// blobHash identifies a body (as masked, before compression): 128 bits of
// two seeded hashes, so that distinct bodies never share a blob in
// practice. The seeds are the recorder's, so after a restart the same
// body gets another blob: the old ones go with their epoch.
type blobHash [2]uint64

func hashBody(seeds *[2]maphash.Seed, data []byte) blobHash {
	var h blobHash
	for i := range h {
		var mh maphash.Hash
		mh.SetSeed(seeds[i])
		mh.Write(data)
		h[i] = mh.Sum64()
	}
	return h
}

type blobID struct {
	epoch int64
	hash  blobHash
}

func epochOf(ns int64) int64 { return ns / int64(blobEpoch) }

func appendHex(b []byte, u uint64) []byte {
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, hexDigits[u>>uint(shift)&0xf])
	}
	return b
}

// appendBlobKey appends the key of blob id.
func appendBlobKey(b []byte, id blobID) []byte {
	b = appendHex(append(b, keyBlob...), uint64(id.epoch))
	b = append(b, '/')
	return appendHex(appendHex(b, id.hash[0]), id.hash[1])
}

// blobCache is what the writer knows of the blobs: the bodies seen once
// in an epoch, and the blobs stored. It is bounded; forgetting only costs
// a body stored inline once more, or a blob stored again (the same key
// and value).
type blobCache struct {
	seen   map[blobID]struct{}
	stored map[blobID]struct{}
	// horizon is the first epoch not deleted by the last collection.
	horizon int64
}

const maxBlobCache = 4096

func (c *blobCache) reset() {
	c.seen, c.stored = map[blobID]struct{}{}, map[blobID]struct{}{}
}

// use tells how to store a body: as a reference to a blob, and whether
// that blob must be written first.
func (c *blobCache) use(id blobID) (ref, write bool) {
	if _, ok := c.stored[id]; ok {
		return true, false
	}
	if _, ok := c.seen[id]; !ok {
		if len(c.seen) >= maxBlobCache {
			clear(c.seen)
		}
		c.seen[id] = struct{}{}
		return false, false
	}
	delete(c.seen, id)
	if len(c.stored) >= maxBlobCache {
		clear(c.stored)
	}
	c.stored[id] = struct{}{}
	return true, true
}

// forget drops what the cache knows of epochs before horizon, whose
// blobs are deleted.
func (c *blobCache) forget(horizon int64) {
	for _, m := range []map[blobID]struct{}{c.seen, c.stored} {
		for id := range m {
			if id.epoch < horizon {
				delete(m, id)
			}
		}
	}
}

// collectBlobs deletes the blobs of the epochs before that of the oldest
// exchange kept. Callers hold storeMu.
func (r *Recorder) collectBlobs() error {
	horizon := int64(math.MaxInt64)
	if r.oldestNS != math.MaxInt64 {
		horizon = epochOf(r.oldestNS)
	}
	if horizon <= r.blobs.horizon {
		return nil
	}
	end := appendHex([]byte(keyBlob), uint64(horizon))
	if horizon == math.MaxInt64 {
		end = []byte(keyBlob + "\xff")
	}
	wb := r.db.Badger().NewWriteBatch()
	defer wb.Cancel()
	err := r.db.Badger().View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix, opts.PrefetchValues = []byte(keyBlob), false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			key := it.Item().KeyCopy(nil)
			if string(key) >= string(end) {
				break
			}
			if err := wb.Delete(key); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = wb.Flush()
	}
	if err != nil {
		return err
	}
	r.blobs.forget(horizon)
	r.blobs.horizon = horizon
	if horizon == math.MaxInt64 {
		// Nothing is stored: the next exchange starts over.
		r.blobs.horizon = 0
	}
	return nil
}

// blobReader reads the bodies stored as blobs for the records of one
// read, decoding each blob once: a page of exchanges often shares one.
type blobReader struct {
	txn    *badger.Txn
	bodies map[blobID]string
}

func newBlobReader(txn *badger.Txn) *blobReader { return &blobReader{txn: txn} }

var errMissingBlob = errors.New("recorder: a body blob is missing")

// body returns the body of blob id. A blob that cannot be read (which
// collection never allows while a record refers to it) reads as an empty
// body rather than failing the whole read.
func (b *blobReader) body(id blobID) string {
	if b == nil || b.txn == nil {
		return ""
	}
	if s, ok := b.bodies[id]; ok {
		return s
	}
	s, _ := b.read(id)
	if b.bodies == nil {
		b.bodies = map[blobID]string{}
	}
	b.bodies[id] = s
	return s
}

func (b *blobReader) read(id blobID) (string, error) {
	item, err := b.txn.Get(appendBlobKey(nil, id))
	if err != nil {
		return "", err
	}
	var body string
	err = item.Value(func(v []byte) error {
		if len(v) == 0 {
			return errMissingBlob
		}
		if v[0] == blobValueCompressed {
			var ok bool
			if body, ok = decompress(v[1:]); !ok {
				return errBadRecord
			}
			return nil
		}
		body = string(v[1:])
		return nil
	})
	return body, err
}

// appendBlobValue appends the value of a blob holding sb: compressed when
// that saves an eighth. A blob is written once per epoch, and stands for
// every later copy of its body.
func appendBlobValue(b []byte, sb *storedBody) []byte {
	start := len(b)
	b = slices.Grow(b, 1+s2.MaxEncodedLen(len(sb.data)))
	b = append(b, blobValueCompressed)
	packed := s2.Encode(b[len(b):cap(b)], sb.data)
	if len(packed) > len(sb.data)-len(sb.data)/8 {
		return append(append(b[:start], blobValuePlain), sb.data...)
	}
	return b[:len(b)+len(packed)]
}
