package script

import (
	"fmt"
	"sync"
	"unsafe"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"github.com/google/uuid"
)

// Names of the variables a script can read. They are shared by the
// environment declaration and the activation so the two cannot drift apart.
const (
	varRequestPayload   = "requestPayload"
	varPayload          = "payload"
	varUserIdentifier   = "userIdentifier"
	varRegistrationData = "registrationData"
	varIdP              = "idp"
	varCache            = "cache"
	varNow              = "now"
)

// maxSourceSize bounds the script length (in code points) the parser accepts,
// so a pasted blob cannot make compilation itself expensive.
const maxSourceSize = 100_000

// baseEnv is built once: creating a cel.Env type-checks every library
// declaration, which is far too slow to repeat per script.
var baseEnv = sync.OnceValues(newBaseEnv)

// newBaseEnv declares the script dialect. Library versions are pinned so an
// upgrade of cel-go cannot silently change what user scripts may call.
func newBaseEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable(varRequestPayload, cel.StringType),
		cel.Variable(varPayload, cel.DynType),
		cel.Variable(varUserIdentifier, cel.StringType),
		cel.Variable(varRegistrationData, cel.StringType),
		cel.Variable(varIdP, cel.StringType),
		cel.Variable(varCache, cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable(varNow, cel.TimestampType),

		cel.OptionalTypes(cel.OptionalTypesVersion(4)),
		ext.Bindings(ext.BindingsVersion(0)),
		ext.Strings(ext.StringsVersion(5)),
		// Version 0 is base64 only: from version 1 on the library brings its
		// own json.encode, whose cost model charges math.MaxUint64 per call
		// and so fails under any cost limit. Ours below is priced by size.
		ext.Encoders(ext.EncodersVersion(0)),
		ext.Math(ext.MathVersion(3)),
		// The cost limit also charges for lists.range, but a lower cap stops
		// one call from allocating a large list before the charge lands.
		ext.Lists(ext.ListsVersion(5), ext.ListsMaxRangeSize(100_000)),
		ext.Sets(ext.SetsVersion(0)),
		ext.TwoVarComprehensions(ext.TwoVarComprehensionsVersion(0)),

		// Pin the cost rules too, so budgets measured today keep meaning
		// the same thing after an upgrade.
		cel.CostModelVersion(1),
		// JSON numbers arrive as int or double; let `payload.n > 1` work
		// either way instead of failing with "no such overload".
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		cel.ParserExpressionSizeLimit(maxSourceSize),

		uuidFunction(),
		jsonEncodeFunction(),
		jsonDecodeFunction(),
		cel.CostModel(
			// Both JSON functions do work proportional to the text they
			// produce or read; charge it like a string scan.
			cost.Overload("json_encode_dyn", cost.EvalCost(
				cost.Sum(cost.Const(cost.CallCost), cost.StringScan(cost.Length(cost.Result()))))),
			cost.Overload("json_decode_string", cost.EvalCost(
				cost.Sum(cost.Const(cost.CallCost), cost.StringScan(cost.Length(cost.Arg(0)))))),
		),
	)
}

// mustBaseEnv returns the shared environment. The declaration above is
// static, so a failure is a programming error caught by any test.
func mustBaseEnv() *cel.Env {
	env, err := baseEnv()
	if err != nil {
		panic(fmt.Sprintf("script: building the CEL environment: %v", err))
	}
	return env
}

// The QR backchannel script draws a uuid() per call: reading its sixteen
// random bytes from a pool the uuid package refills 256 at a time, instead
// of from the system each time, took a twentieth off the run. The pool
// holds random bytes in memory, no concern for a mock's identifiers; it
// is switched on here because the package allows it only before any UUID
// is drawn, and it serves every UUID of the process.
func init() { uuid.EnableRandPool() }

// uuidFunction declares uuid(): a new random (version 4) UUID string.
func uuidFunction() cel.EnvOption {
	return cel.Function("uuid",
		cel.Overload("uuid", nil, cel.StringType,
			cel.FunctionBinding(func(...ref.Val) ref.Val {
				return types.String(uuid.NewString())
			})))
}

// jsonEncodeFunction declares json.encode(dyn) -> string. Map keys are
// sorted, so the output is deterministic and can be compared byte for byte.
func jsonEncodeFunction() cel.EnvOption {
	return cel.Function("json.encode",
		cel.Overload("json_encode_dyn", []*cel.Type{cel.DynType}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				// One buffer that fits most payloads saves the regrowths.
				b, err := appendJSON(make([]byte, 0, 128), v, 0)
				if err != nil {
					return types.NewErr("json.encode: %v", err)
				}
				// b is fresh and never written again, so the string can
				// share its bytes instead of copying them.
				return types.String(unsafe.String(unsafe.SliceData(b), len(b)))
			})))
}

// jsonDecodeFunction declares json.decode(string) -> dyn, using the same
// number rules as the payload variable (see DecodeJSON).
func jsonDecodeFunction() cel.EnvOption {
	return cel.Function("json.decode",
		cel.Overload("json_decode_string", []*cel.Type{cel.StringType}, cel.DynType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				s, ok := v.(types.String)
				if !ok {
					return types.MaybeNoSuchOverloadErr(v)
				}
				decoded, err := decodeCEL(string(s))
				if err != nil {
					return types.NewErr("json.decode: %v", err)
				}
				return decoded
			})))
}
