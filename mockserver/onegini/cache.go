package onegini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"regsandbox/mockserver/script"
	"regsandbox/storage"
)

// Database keys of the back end's state.
const (
	keySigningKey     = "onegini/jwk"
	prefixCache       = "onegini/cache/"
	prefixTransaction = "onegini/transactions/"
)

// cachePrefix is where the cache of idp lives. The id is escaped so that
// an IdP named "a/b" cannot read the cache of an IdP named "a".
func cachePrefix(idp string) string {
	return prefixCache + url.PathEscape(idp) + "/"
}

// cacheRecord is one stored cache entry. The expiry is kept in the record
// and checked against the back end's clock, so expiry is exact and
// testable; Badger's own TTL only reclaims the space later.
type cacheRecord struct {
	Value   json.RawMessage `json:"value"`
	Expires time.Time       `json:"expires,omitzero"`
}

// live reports whether the entry has not expired at now.
func (c *cacheRecord) live(now time.Time) bool {
	return c.Expires.IsZero() || now.Before(c.Expires)
}

// CacheEntry is one live entry of an IdP's cache.
type CacheEntry struct {
	// Key is the cache key.
	Key string
	// Value is JSON-like, as a script reads it (see [script.DecodeJSON]).
	Value any
	// Expires is when the entry goes; zero means never.
	Expires time.Time
}

// scanCache calls fn for every live entry of idp's cache, in key order,
// with its value decoded as a script sees it.
func scanCache(tx *storage.Tx, idp string, now time.Time, fn func(key string, value any, expires time.Time)) error {
	prefix := cachePrefix(idp)
	return tx.Scan(prefix, false, func(key string, raw []byte) error {
		var rec cacheRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("onegini: decoding cache entry %s: %w", key, err)
		}
		if !rec.live(now) {
			return nil
		}
		v, err := script.DecodeJSON(string(rec.Value))
		if err != nil {
			return fmt.Errorf("onegini: decoding cache entry %s: %w", key, err)
		}
		fn(strings.TrimPrefix(key, prefix), v, rec.Expires)
		return nil
	})
}

// loadCache returns idp's live cache as a script sees it.
func loadCache(tx *storage.Tx, idp string, now time.Time) (map[string]any, error) {
	cache := map[string]any{}
	err := scanCache(tx, idp, now, func(key string, value any, _ time.Time) {
		cache[key] = value
	})
	return cache, err
}

// applyCache writes a script's cache changes in tx, so they land together
// with whatever else the call changes, or not at all.
func applyCache(tx *storage.Tx, idp string, res *script.Result, now time.Time) error {
	prefix := cachePrefix(idp)
	for _, key := range res.CacheDelete {
		if err := tx.Delete(prefix + key); err != nil {
			return err
		}
	}
	for _, e := range res.CacheSet {
		if err := putCacheEntry(tx, prefix+e.Key, e, now); err != nil {
			return err
		}
	}
	return nil
}

// putCacheEntry stores one entry; one without a TTL never expires.
func putCacheEntry(tx *storage.Tx, key string, e script.CacheEntry, now time.Time) error {
	value, err := marshal(e.Value)
	if err != nil {
		return fmt.Errorf("onegini: encoding cache entry %q: %w", e.Key, err)
	}
	rec := cacheRecord{Value: value}
	if e.TTLSeconds <= 0 {
		return tx.Put(key, rec)
	}
	ttl := time.Duration(e.TTLSeconds) * time.Second
	rec.Expires = now.Add(ttl)
	return tx.PutTTL(key, rec, ttl)
}

// CacheEntries returns the live entries of idp's cache, in key order.
func (b *Backend) CacheEntries(idp string) ([]CacheEntry, error) {
	var out []CacheEntry
	now := b.now()
	err := b.db.View(func(tx *storage.Tx) error {
		return scanCache(tx, idp, now, func(key string, value any, expires time.Time) {
			out = append(out, CacheEntry{Key: key, Value: value, Expires: expires})
		})
	})
	return out, err
}

// ClearCache empties idp's cache.
func (b *Backend) ClearCache(idp string) error {
	return b.db.DeletePrefix(cachePrefix(idp))
}

// Reset drops every IdP cache and every open transaction. The signing key
// stays, so id_tokens issued before still verify.
func (b *Backend) Reset() error {
	for _, prefix := range []string{prefixCache, prefixTransaction} {
		if err := b.db.DeletePrefix(prefix); err != nil {
			return err
		}
	}
	return nil
}

// marshal encodes v as compact JSON without escaping <, > and &: the
// answers are API payloads, not HTML, and the Token Server leaves them
// alone.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
