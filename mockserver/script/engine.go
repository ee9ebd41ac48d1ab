package script

import (
	"container/list"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
)

// Defaults for the Engine options.
const (
	// DefaultCostLimit is about 20ms of CPU in a tight comprehension:
	// plenty for a registration script (the QR scripts cost ~100), far
	// too little for a runaway loop.
	DefaultCostLimit uint64 = 1_000_000
	// DefaultTimeout bounds one evaluation in wall-clock time.
	DefaultTimeout = 100 * time.Millisecond
	// DefaultCacheSize is how many compiled programs an Engine keeps.
	DefaultCacheSize = 256
)

// interruptCheckFrequency is how many comprehension iterations pass
// between two looks at the deadline: often enough to stop within a fraction
// of a millisecond, rarely enough to cost nothing measurable.
const interruptCheckFrequency = 100

// Engine compiles and caches scripts. It is safe for concurrent use.
type Engine struct {
	env       *cel.Env
	costLimit uint64
	timeout   time.Duration
	cache     *programCache
}

// Option configures an Engine.
type Option func(*Engine)

// WithCostLimit sets the CEL cost budget of one evaluation; 0 means no
// limit (the timeout still applies). The default is DefaultCostLimit.
func WithCostLimit(n uint64) Option {
	return func(e *Engine) { e.costLimit = n }
}

// WithTimeout sets the wall-clock budget of one evaluation; a value <= 0
// leaves only the deadline of the context passed to Run. The default is
// DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(e *Engine) { e.timeout = d }
}

// WithCacheSize sets how many compiled programs Program keeps, least
// recently used first out; n <= 0 keeps the default, DefaultCacheSize.
func WithCacheSize(n int) Option {
	return func(e *Engine) {
		if n > 0 {
			e.cache = newProgramCache(n)
		}
	}
}

// NewEngine returns an Engine with the given options applied.
func NewEngine(opts ...Option) *Engine {
	e := &Engine{
		env:       mustBaseEnv(),
		costLimit: DefaultCostLimit,
		timeout:   DefaultTimeout,
		cache:     newProgramCache(DefaultCacheSize),
	}
	for _, opt := range opts {
		opt(e)
	}
	return e
}

// Check compiles source without building a program, for check-as-you-type.
// It returns nil or a *CompileError.
func (e *Engine) Check(source string) error {
	_, err := e.check(source)
	return err
}

// Compile compiles source into a new Program, bypassing the cache. It
// returns a *CompileError when the script is invalid.
func (e *Engine) Compile(source string) (*Program, error) {
	ast, err := e.check(source)
	if err != nil {
		return nil, err
	}
	return e.newProgram(source, ast)
}

// Program returns the compiled program for source, compiling it only when
// it is not in the Engine's cache. Invalid scripts are not cached.
func (e *Engine) Program(source string) (*Program, error) {
	if p, ok := e.cache.get(source); ok {
		return p, nil
	}
	p, err := e.Compile(source)
	if err != nil {
		return nil, err
	}
	// Another goroutine may have compiled the same source meanwhile; keep
	// whichever landed first so callers share one Program.
	return e.cache.add(source, p), nil
}

// check parses and type-checks source and verifies it can yield a map.
func (e *Engine) check(source string) (*cel.Ast, error) {
	ast, iss := e.env.Compile(source)
	if iss != nil && iss.Err() != nil {
		return nil, issuesError(iss)
	}
	if err := checkOutputType(ast); err != nil {
		return nil, err
	}
	return ast, nil
}

// newProgram plans the evaluation of a checked AST with the Engine budget.
func (e *Engine) newProgram(source string, ast *cel.Ast) (*Program, error) {
	opts := []cel.ProgramOption{
		// OptOptimize precomputes constant parts (e.g. literal maps)
		// once at plan time rather than on every run.
		cel.EvalOptions(cel.OptOptimize),
		cel.InterruptCheckFrequency(interruptCheckFrequency),
		// Custom decorators run before CEL's folding, which still turns
		// the all-constant literals literalMaps leaves alone into values.
		cel.CustomDecoratorV2(literalMaps(ast.NativeRep().Expr(), e.env.CELTypeAdapter())),
	}
	if e.costLimit > 0 {
		opts = append(opts, cel.CostLimit(e.costLimit))
	} else {
		// Tracking without a limit still reports Result.Cost.
		opts = append(opts, cel.CostTracking(nil))
	}
	prg, err := e.env.Program(ast, opts...)
	if err != nil {
		return nil, &CompileError{Issues: []Issue{{Line: 1, Column: 1, Message: err.Error()}}}
	}
	return &Program{
		source:     source,
		prg:        prg,
		sourceInfo: ast.NativeRep().SourceInfo(),
		timeout:    e.timeout,
		costLimit:  e.costLimit,
		loops:      hasLoop(ast.NativeRep().Expr()),
	}, nil
}

// hasLoop reports whether expr contains a comprehension that iterates.
// CEL only checks for cancellation between comprehension iterations, so a
// deadline cannot stop a loop-free script early; Run skips setting one up.
// cel.bind expands to a comprehension over an empty list, which never
// iterates.
func hasLoop(expr celast.Expr) bool {
	found := false
	celast.PreOrderVisit(expr, celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() != celast.ComprehensionKind {
			return
		}
		r := e.AsComprehension().IterRange()
		if r.Kind() != celast.ListKind || len(r.AsList().Elements()) > 0 {
			found = true
		}
	}))
	return found
}

// issuesError converts CEL issues into a *CompileError with 1-based
// positions (CEL's columns are 0-based).
func issuesError(iss *cel.Issues) *CompileError {
	errs := iss.Errors()
	out := make([]Issue, 0, len(errs))
	for _, e := range errs {
		out = append(out, Issue{
			Line:    max(e.Location.Line(), 1),
			Column:  e.Location.Column() + 1,
			Message: e.Message,
		})
	}
	return &CompileError{Issues: out}
}

// checkOutputType refuses a script whose type is known not to be a map with
// string keys; dyn results are accepted and validated at run time.
func checkOutputType(ast *cel.Ast) error {
	t := ast.OutputType()
	switch t.Kind() {
	case types.DynKind:
		return nil
	case types.MapKind:
		if k := t.Parameters()[0].Kind(); k == types.StringKind || k == types.DynKind {
			return nil
		}
	}
	loc := rootLocation(ast.NativeRep())
	return &CompileError{Issues: []Issue{{
		Line:   loc.line,
		Column: loc.column,
		Message: "the script must evaluate to a map such as {\"status\": 2000}, but it evaluates to " +
			cel.FormatCELType(t),
	}}}
}

// position is a 1-based line and column.
type position struct{ line, column int }

// rootLocation is where the script's first token is, or 1:1. The root
// node's own offset is no good: for `1 + 2` it is the operator.
func rootLocation(a *celast.AST) position {
	info := a.SourceInfo()
	first := int32(-1)
	for _, r := range info.OffsetRanges() {
		if first < 0 || r.Start < first {
			first = r.Start
		}
	}
	if first < 0 {
		return position{1, 1}
	}
	loc := info.GetLocationByOffset(first)
	return position{max(loc.Line(), 1), loc.Column() + 1}
}

// programCache is a mutex-guarded LRU of compiled programs keyed by source.
type programCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front is most recently used; values are *cacheItem
	items map[string]*list.Element
}

// cacheItem is one programCache entry.
type cacheItem struct {
	source string
	prog   *Program
}

// newProgramCache returns an empty cache holding at most max programs.
func newProgramCache(max int) *programCache {
	return &programCache{max: max, order: list.New(), items: make(map[string]*list.Element)}
}

// get returns the cached program for source and marks it recently used.
func (c *programCache) get(source string) (*Program, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[source]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheItem).prog, true
}

// add stores p unless source is already cached, evicting the least
// recently used entry when full, and returns the program now cached.
func (c *programCache) add(source string, p *Program) *Program {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[source]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*cacheItem).prog
	}
	c.items[source] = c.order.PushFront(&cacheItem{source: source, prog: p})
	if c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*cacheItem).source)
	}
	return p
}

// len reports the number of cached programs.
func (c *programCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
