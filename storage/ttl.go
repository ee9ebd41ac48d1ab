package storage

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// PutTTL stores v at key and lets Badger drop it after ttl. Callers that
// need an exact, testable expiry keep the deadline in the record too and
// check it against their own clock; the TTL only reclaims space.
func (tx *Tx) PutTTL(key string, v any, ttl time.Duration) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("storage: encoding %s: %w", key, err)
	}
	tx.wrote = true
	return tx.txn.SetEntry(badger.NewEntry([]byte(key), raw).WithTTL(ttl))
}

// Sequence hands out increasing integers from a counter stored at key,
// leasing them in blocks so that concurrent writers never conflict on it.
type Sequence struct {
	seq *badger.Sequence
}

// Sequence opens the counter stored at key.
func (db *DB) Sequence(key string) (*Sequence, error) {
	// A lease of 1000 renews rarely: each renewal is a synced write
	// taken under the sequence's lock.
	seq, err := db.bdb.GetSequence([]byte(key), 1000)
	if err != nil {
		return nil, err
	}
	return &Sequence{seq: seq}, nil
}

// Next returns the next number, starting at 1.
func (s *Sequence) Next() (uint64, error) {
	for {
		n, err := s.seq.Next()
		if err != nil || n > 0 {
			return n, err
		}
	}
}

// Release returns the unused part of the lease so the next start does not
// skip numbers.
func (s *Sequence) Release() error { return s.seq.Release() }
