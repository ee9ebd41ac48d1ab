package script

import (
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

// Map keys the result decoder looks up, boxed once: converting a string
// to a ref.Val allocates, and these are looked up on every run.
var (
	keyStatus           ref.Val = types.String("status")
	keyResponsePayload  ref.Val = types.String("responsePayload")
	keyUser             ref.Val = types.String("user")
	keyRegistrationData ref.Val = types.String("registrationData")
	keyCache            ref.Val = types.String("cache")
	keyID               ref.Val = types.String("id")
	keyAttributes       ref.Val = types.String("attributes")
	keySet              ref.Val = types.String("set")
	keyDelete           ref.Val = types.String("delete")
	keyValue            ref.Val = types.String("value")
	keyTTL              ref.Val = types.String("ttl")
)

// The keys each map of the result may have, in documentation order.
var (
	resultKeys = []ref.Val{keyStatus, keyResponsePayload, keyUser, keyRegistrationData, keyCache}
	userKeys   = []ref.Val{keyID, keyAttributes}
	cacheKeys  = []ref.Val{keySet, keyDelete}
)

// decodeResult validates the script's value and converts it into a Result.
func decodeResult(out ref.Val) (Result, error) {
	m, ok := out.(traits.Mapper)
	if !ok {
		return Result{}, resultErrorf("", "must be a map such as {\"status\": 2000}, got %s", describe(out))
	}
	if err := checkKeys(m, "", resultKeys); err != nil {
		return Result{}, err
	}
	var res Result
	var err error
	if res.Status, err = decodeStatus(m); err != nil {
		return Result{}, err
	}
	if res.ResponsePayload, err = decodeResponsePayload(m); err != nil {
		return Result{}, err
	}
	if res.User, err = decodeUser(m); err != nil {
		return Result{}, err
	}
	if res.RegistrationData, err = optionalString(m, keyRegistrationData, "registrationData"); err != nil {
		return Result{}, err
	}
	if res.CacheSet, res.CacheDelete, err = decodeCache(m); err != nil {
		return Result{}, err
	}
	return res, nil
}

// checkKeys refuses keys outside allowed so a typo such as "responsePayLoad"
// is reported instead of silently ignored. prefix is the path of m.
func checkKeys(m traits.Mapper, prefix string, allowed []ref.Val) error {
	// Counting the allowed keys present avoids an iterator allocation on
	// every run; only a map with extra keys is walked to name one.
	known := 0
	for _, k := range allowed {
		if _, ok := m.Find(k); ok {
			known++
		}
	}
	if n, ok := m.Size().(types.Int); ok && int(n) == known {
		return nil
	}
	for it := m.Iterator(); it.HasNext() == types.True; {
		k := it.Next()
		s, ok := k.(types.String)
		if !ok {
			return resultErrorf(strings.TrimSuffix(prefix, "."), "keys must be strings, got %s", describe(k))
		}
		if !slices.Contains(allowed, ref.Val(s)) {
			return resultErrorf(prefix+string(s), "is not a known key (allowed: %s)", joinKeys(allowed))
		}
	}
	return nil
}

// joinKeys lists key names for an error message.
func joinKeys(keys []ref.Val) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = string(k.(types.String))
	}
	return strings.Join(names, ", ")
}

// lookup returns m[key] with null treated as absent, so scripts can write
// `cond ? x : null` for an optional entry.
func lookup(m traits.Mapper, key ref.Val) (ref.Val, bool) {
	v, ok := m.Find(key)
	if !ok || v == types.NullValue {
		return nil, false
	}
	return v, true
}

// decodeStatus reads the required status code.
func decodeStatus(m traits.Mapper) (int, error) {
	v, ok := lookup(m, keyStatus)
	if !ok {
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
func decodeResponsePayload(m traits.Mapper) (string, error) {
	v, ok := lookup(m, keyResponsePayload)
	if !ok {
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
func decodeUser(m traits.Mapper) (*User, error) {
	v, ok := lookup(m, keyUser)
	if !ok {
		return nil, nil
	}
	um, ok := v.(traits.Mapper)
	if !ok {
		return nil, resultErrorf("user", "must be a map such as {\"id\": \"user-1\"}, got %s", describe(v))
	}
	if err := checkKeys(um, "user.", userKeys); err != nil {
		return nil, err
	}
	id, err := optionalString(um, keyID, "user.id")
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, resultErrorf("user.id", "is required and must be a non-empty string")
	}
	attrs, err := decodeAttributes(um)
	if err != nil {
		return nil, err
	}
	return &User{ID: id, Attributes: attrs}, nil
}

// decodeAttributes reads user.attributes, a map of JSON-like values.
func decodeAttributes(um traits.Mapper) (map[string]any, error) {
	v, ok := lookup(um, keyAttributes)
	if !ok {
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

// optionalString reads m[key] as a string; absent or null is "". path names
// the key in error messages.
func optionalString(m traits.Mapper, key ref.Val, path string) (string, error) {
	v, ok := lookup(m, key)
	if !ok {
		return "", nil
	}
	s, ok := v.(types.String)
	if !ok {
		return "", resultErrorf(path, "must be a string, got %s", describe(v))
	}
	return string(s), nil
}
