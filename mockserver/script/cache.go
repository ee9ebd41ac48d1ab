package script

import (
	"math"
	"slices"
	"strconv"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// decodeCache reads the optional result.cache map:
//
//	{"set": {key: value | {"value": value, "ttl": seconds}}, "delete": [key, ...]}
func decodeCache(v ref.Val) ([]CacheEntry, []string, error) {
	if v == nil {
		return nil, nil, nil
	}
	cm, ok := v.(traits.Mapper)
	if !ok {
		return nil, nil, resultErrorf("cache", "must be a map such as {\"set\": {...}, \"delete\": [...]}, got %s", describe(v))
	}
	var f [len(cacheKeys)]ref.Val
	if err := fields(cm, "cache.", cacheKeys[:], f[:]); err != nil {
		return nil, nil, err
	}
	set, err := decodeCacheSet(f[slotSet])
	if err != nil {
		return nil, nil, err
	}
	del, err := decodeCacheDelete(f[slotDelete])
	if err != nil {
		return nil, nil, err
	}
	return set, del, checkCacheConflicts(set, del)
}

// decodeCacheSet reads result.cache.set into entries sorted by key.
func decodeCacheSet(v ref.Val) ([]CacheEntry, error) {
	if v == nil {
		return nil, nil
	}
	sm, ok := v.(traits.Mapper)
	if !ok {
		return nil, resultErrorf("cache.set", "must be a map from key to value, got %s", describe(v))
	}
	var buf [8]mapEntry // keeps the usual one or two entries off the heap
	sorted, err := sortedEntries(sm, buf[:0])
	if err != nil {
		return nil, resultErrorf("cache.set", "%v", err)
	}
	entries := make([]CacheEntry, 0, len(sorted))
	for _, se := range sorted {
		e, err := decodeCacheEntry(se.key, se.val)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// decodeCacheEntry reads one set entry: a plain value, or a map whose keys
// are exactly "value" or "value" and "ttl", which carries a time to live.
func decodeCacheEntry(key string, v ref.Val) (CacheEntry, error) {
	val, ttl, wrapped := v, ref.Val(nil), false
	if wm, ok := v.(traits.Mapper); ok {
		if wv, wttl, ok := wrappedEntry(wm); ok {
			val, ttl, wrapped = wv, wttl, true
		}
	}
	native, err := toNative(val, 0)
	if err != nil {
		// The path is only spelled out for an error: quoting the key on
		// every run was a tenth of the QR script's time.
		path := setPath(key)
		if wrapped {
			path += ".value"
		}
		return CacheEntry{}, resultErrorf(path, "cannot be stored: %v", err)
	}
	e := CacheEntry{Key: key, Value: native}
	if ttl != nil && ttl != types.NullValue {
		n, ok := ttl.(types.Int)
		if !ok || n <= 0 || n > math.MaxInt32 {
			return CacheEntry{}, resultErrorf(setPath(key)+".ttl", "must be a positive int (seconds), got %s", describe(ttl))
		}
		e.TTLSeconds = int(n)
	}
	return e, nil
}

// wrappedEntry reads m as {"value": v} or {"value": v, "ttl": t}; ok is
// false when m is a map to store as is. To store such a map itself, wrap
// it: {"value": {"value": 1}}. ttl is nil when absent.
func wrappedEntry(m traits.Mapper) (val, ttl ref.Val, ok bool) {
	err := forEachEntry(m, func(k, v ref.Val) error {
		switch s, _ := k.(types.String); s {
		case "value":
			val = v
		case "ttl":
			ttl = v
		default:
			return errStop
		}
		return nil
	})
	return val, ttl, err == nil && val != nil
}

// decodeCacheDelete reads result.cache.delete, a list of string keys.
func decodeCacheDelete(v ref.Val) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.(traits.Lister)
	if !ok {
		return nil, resultErrorf("cache.delete", "must be a list of keys, got %s", describe(v))
	}
	n := int(l.Size().(types.Int))
	keys := make([]string, 0, n)
	// By index: a list's iterator is one more allocation a run.
	for i := range n {
		k := l.Get(types.Int(i))
		s, ok := k.(types.String)
		if !ok {
			return nil, resultErrorf("cache.delete", "must contain only string keys, got %s at index %d", describe(k), i)
		}
		keys = append(keys, string(s))
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// checkCacheConflicts refuses a key that is both set and deleted: the
// intended order would be a guess.
func checkCacheConflicts(set []CacheEntry, del []string) error {
	for _, e := range set {
		if _, found := slices.BinarySearch(del, e.Key); found {
			return resultErrorf("cache", "sets and deletes the same key %q", e.Key)
		}
	}
	return nil
}

// setPath names a cache.set entry in error messages; the key is quoted
// because cache keys may contain dots or spaces.
func setPath(key string) string {
	return "cache.set[" + strconv.Quote(key) + "]"
}
