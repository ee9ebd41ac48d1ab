package script

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// Program is a compiled script. It is immutable and safe for concurrent use.
type Program struct {
	source     string
	prg        cel.Program
	sourceInfo *celast.SourceInfo
	timeout    time.Duration
	costLimit  uint64
	loops      bool // see hasLoop
}

// Source returns the script text the program was compiled from.
func (p *Program) Source() string { return p.source }

// Input is what a script can see, one field per script variable.
type Input struct {
	// RequestPayload is the raw request payload: the script variable
	// requestPayload, and, JSON-decoded, payload (null when it is empty or
	// not JSON).
	RequestPayload string
	// UserIdentifier is the script variable userIdentifier.
	UserIdentifier string
	// RegistrationData is the script variable registrationData.
	RegistrationData string
	// IdP is the identity provider identifier: the script variable idp.
	IdP string
	// Cache is the IdP's cache, key to value: the script variable cache.
	// Values should be JSON-like (see DecodeJSON); nil means empty.
	Cache map[string]any
	// Now is the script variable now; the zero value means time.Now().
	Now time.Time
}

// Run evaluates the script against in and validates its result.
//
// Errors: ErrCostLimit or ErrTimeout (wrapped) when the script was stopped
// for exceeding its budget, the context's error when ctx was cancelled,
// *RuntimeError when the script failed, *ResultError when it returned a
// result of the wrong shape.
func (p *Program) Run(ctx context.Context, in Input) (Result, error) {
	act := newActivation(in)
	defer act.release()
	out, det, err := p.eval(ctx, act)
	if err != nil {
		return Result{}, err
	}
	res, err := decodeResult(out)
	if err != nil {
		return Result{}, err
	}
	if c := det.ActualCost(); c != nil {
		res.Cost = *c
	}
	return res, nil
}

// eval evaluates the program under its budget.
func (p *Program) eval(ctx context.Context, act *activation) (ref.Val, *cel.EvalDetails, error) {
	if !p.loops {
		// Nothing in a loop-free script looks at a context, so skip the
		// timer and its allocations; the cost
		// limit still bounds it. Honour a context that is already done.
		if err := ctx.Err(); err != nil {
			return nil, nil, p.evalError(ctx, err)
		}
		out, det, err := p.prg.Eval(act)
		if err != nil {
			return nil, nil, p.evalError(ctx, err)
		}
		return out, det, nil
	}
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	out, det, err := p.prg.ContextEval(ctx, act)
	if err != nil {
		return nil, nil, p.evalError(ctx, err)
	}
	return out, det, nil
}

// evalError sorts an evaluation error into budget, cancellation and script
// failures so callers can tell "stopped" from "broken".
func (p *Program) evalError(ctx context.Context, err error) error {
	var cancelled interpreter.EvalCancelledError
	if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
		return fmt.Errorf("%w (%d)", ErrCostLimit, p.costLimit)
	}
	// An interrupted evaluation reports a generic error; the context
	// says why it was interrupted.
	switch ctxErr := ctx.Err(); {
	case errors.Is(ctxErr, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)
	case ctxErr != nil:
		return fmt.Errorf("script evaluation cancelled: %w", context.Cause(ctx))
	}
	return p.runtimeError(err)
}

// runtimeError wraps a CEL evaluation failure with the position of the
// failing expression when CEL recorded it.
func (p *Program) runtimeError(err error) *RuntimeError {
	re := &RuntimeError{Message: err.Error(), Err: err}
	var celErr *types.Err
	if errors.As(err, &celErr) && celErr.NodeID() != 0 {
		if loc := p.sourceInfo.GetStartLocation(celErr.NodeID()); loc.Line() > 0 {
			re.Line, re.Column = loc.Line(), loc.Column()+1
		}
	}
	return re
}

// activation resolves script variables lazily: a script that never reads
// payload never pays for decoding it, and values read twice are built once.
// It is used by one evaluation only, so it needs no locking.
type activation struct {
	in      Input
	payload ref.Val
	cache   ref.Val
	// The string variables as CEL values, each boxed once: a script
	// such as QR complete reads requestPayload three times.
	requestPayload, userIdentifier, registrationData, idp ref.Val
}

// activationPool recycles activations: one is needed per run, and nothing
// refers to it once Run has converted the result into Go values.
var activationPool = sync.Pool{New: func() any { return new(activation) }}

// newActivation wraps in for one evaluation.
func newActivation(in Input) *activation {
	a := activationPool.Get().(*activation)
	a.in = in
	return a
}

// release clears a and returns it to the pool.
func (a *activation) release() {
	*a = activation{}
	activationPool.Put(a)
}

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case varRequestPayload:
		return boxOnce(&a.requestPayload, a.in.RequestPayload), true
	case varPayload:
		return a.resolvePayload(), true
	case varUserIdentifier:
		return boxOnce(&a.userIdentifier, a.in.UserIdentifier), true
	case varRegistrationData:
		return boxOnce(&a.registrationData, a.in.RegistrationData), true
	case varIdP:
		return boxOnce(&a.idp, a.in.IdP), true
	case varCache:
		return a.resolveCache(), true
	case varNow:
		if a.in.Now.IsZero() {
			a.in.Now = time.Now()
		}
		return types.Timestamp{Time: a.in.Now}, true
	}
	return nil, false
}

// boxOnce returns *v, first setting it to s as a CEL string.
func boxOnce(v *ref.Val, s string) ref.Val {
	if *v == nil {
		*v = types.String(s)
	}
	return *v
}

// Parent implements interpreter.Activation; there is none.
func (a *activation) Parent() interpreter.Activation { return nil }

// resolvePayload decodes RequestPayload once; anything that is not JSON,
// including the empty string, reads as null.
func (a *activation) resolvePayload() ref.Val {
	if a.payload == nil {
		a.payload = types.NullValue
		if v, err := decodeCEL(a.in.RequestPayload); err == nil {
			a.payload = v
		}
	}
	return a.payload
}

// resolveCache wraps the cache map once; a nil map reads as empty.
func (a *activation) resolveCache() ref.Val {
	if a.cache == nil {
		m := a.in.Cache
		if m == nil {
			m = map[string]any{}
		}
		a.cache = types.NewStringInterfaceMap(types.DefaultTypeAdapter, m)
	}
	return a.cache
}
