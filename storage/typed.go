package storage

import (
	"encoding/json"
	"fmt"
)

// List decodes every record whose key starts with prefix, in key order.
func List[T any](tx *Tx, prefix string) ([]T, error) {
	var out []T
	err := tx.Scan(prefix, false, func(key string, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("storage: decoding %s: %w", key, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// Load reads one record outside of any caller transaction.
func Load[T any](db *DB, key string) (T, bool, error) {
	var v T
	var found bool
	err := db.View(func(tx *Tx) error {
		var err error
		found, err = tx.Get(key, &v)
		return err
	})
	return v, found, err
}

// Store writes one record in its own transaction.
func Store(db *DB, key string, v any) error {
	return db.Update(func(tx *Tx) error { return tx.Put(key, v) })
}
