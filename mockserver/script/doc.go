// Package script is the RegSandbox script engine: it compiles and runs the
// custom registration scripts users write in CEL (the Common Expression
// Language, https://cel.dev) and validates what they return.
//
// A script is one CEL expression that evaluates to a result map. An Engine
// compiles scripts (caching the compiled Program per source text) and a
// Program runs them under a cost and a time budget.
//
// # Variables
//
//	requestPayload    string               the raw request payload
//	payload           dyn                  requestPayload JSON-decoded; null when empty or not JSON
//	userIdentifier    string
//	registrationData  string
//	idp               string               the identity provider identifier
//	cache             map(string, dyn)     the IdP's cache, key to value
//	now               timestamp            the evaluation time
//
// JSON numbers written as integers (no fraction or exponent) that fit in an
// int64 decode as int, all other numbers as double; see DecodeJSON. Numeric
// comparisons across int and double are allowed, so `payload.n > 1` works
// either way.
//
// # Functions
//
// Besides standard CEL: optional values (`cache[?key].orValue("x")`),
// cel.bind for local names, the strings, math, lists, sets, two-variable
// comprehension and base64 extensions, and
//
//	uuid()                  string  a new random (version 4) UUID
//	json.encode(dyn)        string  compact JSON, map keys sorted
//	json.decode(string)     dyn     parse JSON (fails on invalid input)
//
// # Result
//
//	{
//	  "status": 2000,                  // required: 2000-2999 success,
//	                                   // 4000-4999 retryable, 5000-5999 unrecoverable
//	  "responsePayload": "...",        // string; a map or list is JSON-encoded
//	  "user": {"id": "user-1",         // id required when user is present
//	           "attributes": {...}},   // optional
//	  "registrationData": "...",       // string
//	  "cache": {
//	    "set": {
//	      "key-1": "any value",                  // stored without a time to live
//	      "key-2": {"value": 42, "ttl": 100},    // stored for 100 seconds
//	    },
//	    "delete": ["key-3"],
//	  },
//	}
//
// Only status is required. A null entry counts as absent (so a script can
// write `cond ? x : null`), except as a cache.set value, where null is stored.
// Unknown keys are errors, so a misspelt key does not go unnoticed. In
// cache.set, a map whose keys are exactly "value", or "value" and "ttl", is
// the wrapped form; to store such a map itself, wrap it once more:
// {"value": {"value": 1}}. A key may not be both set and deleted.
//
// # Examples
//
// The QR-code flow. The backchannel script remembers which user the
// QR code is for, under a new code, for 100 seconds:
//
//	cel.bind(id, uuid(), {
//	  "status": 2000,
//	  "responsePayload": id,
//	  "cache": {"set": {id: {"value": payload.userId, "ttl": 100}}}
//	})
//
// The complete script receives that code as its request payload and
// registers the user it stands for, once:
//
//	requestPayload in cache
//	  ? {
//	      "status": 2000,
//	      "user": {"id": cache[requestPayload]},
//	      "cache": {"delete": [requestPayload]}
//	    }
//	  : {"status": 5000}
//
// A backchannel script answering with a JSON document:
//
//	{
//	  "status": 2000,
//	  "responsePayload": json.encode({"custom_response_key": "custom_response_data"})
//	}
//
// # Errors
//
// Compile, Program and Check return *CompileError, whose issues carry
// 1-based line and column. Run returns an error wrapping ErrCostLimit or
// ErrTimeout when the script was stopped for exceeding its budget (see
// IsBudgetExceeded), *RuntimeError when it failed while evaluating, and
// *ResultError when its result does not have the shape above.
package script
