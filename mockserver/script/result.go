package script

import (
	"errors"
	"slices"
	"strings"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// Result is the validated outcome of a script.
type Result struct {
	// Status is the custom registration status: 2000-2999 success,
	// 4000-4999 retryable failure, 5000-5999 unrecoverable failure.
	Status int `json:"status"`
	// ResponsePayload is returned to the app; a map or list the script
	// returned is JSON-encoded with sorted keys.
	ResponsePayload string `json:"responsePayload"`
	// User is the user to register, or nil when the script named none.
	User *User `json:"user,omitempty"`
	// RegistrationData is passed on to a later step, empty when not set.
	RegistrationData string `json:"registrationData,omitempty"`
	// CacheSet lists the cache writes, sorted by key.
	CacheSet []CacheEntry `json:"cacheSet,omitempty"`
	// CacheDelete lists the cache keys to remove, sorted.
	CacheDelete []string `json:"cacheDelete,omitempty"`
	// Cost is the CEL cost the evaluation used.
	Cost uint64 `json:"cost"`
}

// Success reports a 2xxx status.
func (r Result) Success() bool { return r.Status >= 2000 && r.Status <= 2999 }

// Retryable reports a 4xxx status: the app may try again.
func (r Result) Retryable() bool { return r.Status >= 4000 && r.Status <= 4999 }

// Unrecoverable reports a 5xxx status: the registration cannot go on.
func (r Result) Unrecoverable() bool { return r.Status >= 5000 && r.Status <= 5999 }

// User is the user a script registers.
type User struct {
	// ID is the user identifier; never empty.
	ID string `json:"id"`
	// Attributes are optional extra user attributes, nil when not set.
	Attributes map[string]any `json:"attributes,omitempty"`
}

// CacheEntry is one cache write requested by a script.
type CacheEntry struct {
	// Key is the cache key.
	Key string `json:"key"`
	// Value is JSON-like: nil, bool, int64, uint64, float64, string, []any
	// or map[string]any.
	Value any `json:"value"`
	// TTLSeconds is the time to live; 0 means the script set none and the
	// caller's default applies.
	TTLSeconds int `json:"ttl,omitempty"`
}

// The keys each map of the result may have, in documentation order; a
// decoder reads a map's entries into one slot per key (see fields).
var (
	resultKeys = [...]string{"status", "responsePayload", "user", "registrationData", "cache"}
	userKeys   = [...]string{"id", "attributes"}
	cacheKeys  = [...]string{"set", "delete"}
)

// Slots of resultKeys, userKeys and cacheKeys.
const (
	slotStatus = iota
	slotResponsePayload
	slotUser
	slotRegistrationData
	slotCache
)

const (
	slotID = iota
	slotAttributes
)

const (
	slotSet = iota
	slotDelete
)

// decodeResult validates the script's value and converts it into a Result.
func decodeResult(out ref.Val) (Result, error) {
	m, ok := out.(traits.Mapper)
	if !ok {
		return Result{}, resultErrorf("", "must be a map such as {\"status\": 2000}, got %s", describe(out))
	}
	var f [len(resultKeys)]ref.Val
	if err := fields(m, "", resultKeys[:], f[:]); err != nil {
		return Result{}, err
	}
	var res Result
	var err error
	if res.Status, err = decodeStatus(f[slotStatus]); err != nil {
		return Result{}, err
	}
	if res.ResponsePayload, err = decodeResponsePayload(f[slotResponsePayload]); err != nil {
		return Result{}, err
	}
	if res.User, err = decodeUser(f[slotUser]); err != nil {
		return Result{}, err
	}
	if res.RegistrationData, err = optionalString(f[slotRegistrationData], "registrationData"); err != nil {
		return Result{}, err
	}
	if res.CacheSet, res.CacheDelete, err = decodeCache(f[slotCache]); err != nil {
		return Result{}, err
	}
	return res, nil
}

// fields reads m in one pass into dst, one slot per name in allowed; an
// absent or null entry leaves its slot nil, so scripts can write
// `cond ? x : null` for an optional entry. Keys outside allowed are
// refused so that a typo such as "responsePayLoad" is reported instead of
// silently ignored. prefix is the path of m.
func fields(m traits.Mapper, prefix string, allowed []string, dst []ref.Val) error {
	return forEachEntry(m, func(k, v ref.Val) error {
		s, ok := k.(types.String)
		if !ok {
			return resultErrorf(strings.TrimSuffix(prefix, "."), "keys must be strings, got %s", describe(k))
		}
		i := slices.Index(allowed, string(s))
		if i < 0 {
			return resultErrorf(prefix+string(s), "is not a known key (allowed: %s)", strings.Join(allowed, ", "))
		}
		if v != types.NullValue {
			dst[i] = v
		}
		return nil
	})
}

// forEachEntry calls fn with each key and value of m until fn fails. The
// maps a script builds, and the payload's objects, are literalMaps or
// map[ref.Val]ref.Val underneath; ranging over their entries skips the
// iterator's key slice and a hashed lookup per key, which took a fifth of
// a run. Other maps (the cache) take the iterator.
func forEachEntry(m traits.Mapper, fn func(k, v ref.Val) error) error {
	if lm, ok := m.(*literalMap); ok {
		return lm.each(fn)
	}
	if raw, ok := m.Value().(map[ref.Val]ref.Val); ok {
		for k, v := range raw {
			if err := fn(k, v); err != nil {
				return err
			}
		}
		return nil
	}
	for it := m.Iterator(); it.HasNext() == types.True; {
		k := it.Next()
		if err := fn(k, m.Get(k)); err != nil {
			return err
		}
	}
	return nil
}

// decodeStatus reads the required status code; v is nil when absent.
func decodeStatus(v ref.Val) (int, error) {
	if v == nil {
		return 0, resultErrorf("status", "is required: an int in 2000-2999 (success), 4000-4999 (retryable) or 5000-5999 (unrecoverable)")
	}
	n, ok := v.(types.Int)
	if !ok || !validStatus(int64(n)) {
		return 0, resultErrorf("status", "must be an int in 2000-2999, 4000-4999 or 5000-5999, got %s", describe(v))
	}
	return int(n), nil
}

// validStatus reports whether n is in one of the three status ranges.
func validStatus(n int64) bool {
	return n >= 2000 && n <= 2999 || n >= 4000 && n <= 5999
}

// decodeResponsePayload reads responsePayload, JSON-encoding a map or list.
func decodeResponsePayload(v ref.Val) (string, error) {
	if v == nil {
		return "", nil
	}
	switch v := v.(type) {
	case types.String:
		return string(v), nil
	case traits.Mapper, traits.Lister:
		b, err := appendJSON(nil, v, 0)
		if err != nil {
			return "", resultErrorf("responsePayload", "cannot be encoded as JSON: %v", err)
		}
		return string(b), nil
	}
	return "", resultErrorf("responsePayload", "must be a string, map or list, got %s", describe(v))
}

// decodeUser reads the optional user map: {"id": string, "attributes": map}.
func decodeUser(v ref.Val) (*User, error) {
	if v == nil {
		return nil, nil
	}
	um, ok := v.(traits.Mapper)
	if !ok {
		return nil, resultErrorf("user", "must be a map such as {\"id\": \"user-1\"}, got %s", describe(v))
	}
	var f [len(userKeys)]ref.Val
	if err := fields(um, "user.", userKeys[:], f[:]); err != nil {
		return nil, err
	}
	id, err := optionalString(f[slotID], "user.id")
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, resultErrorf("user.id", "is required and must be a non-empty string")
	}
	attrs, err := decodeAttributes(f[slotAttributes])
	if err != nil {
		return nil, err
	}
	return &User{ID: id, Attributes: attrs}, nil
}

// decodeAttributes reads user.attributes, a map of JSON-like values.
func decodeAttributes(v ref.Val) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	am, ok := v.(traits.Mapper)
	if !ok {
		return nil, resultErrorf("user.attributes", "must be a map, got %s", describe(v))
	}
	attrs, err := mapToNative(am, 0)
	if err != nil {
		return nil, resultErrorf("user.attributes", "is invalid: %v", err)
	}
	return attrs, nil
}

// optionalString reads v as a string; nil (absent or null) is "". path
// names the key in error messages.
func optionalString(v ref.Val, path string) (string, error) {
	if v == nil {
		return "", nil
	}
	s, ok := v.(types.String)
	if !ok {
		return "", resultErrorf(path, "must be a string, got %s", describe(v))
	}
	return string(s), nil
}

// errStop ends a forEachEntry walk that found its answer.
var errStop = errors.New("stop")
