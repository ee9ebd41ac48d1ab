package onegini

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/common"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/parser"

	"regsandbox/mockserver/script"
	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// Script slots of an IdP.
const (
	SlotInit        = "init"
	SlotComplete    = "complete"
	SlotBackchannel = "backchannel"
)

// slotSource returns the IdP's script for slot.
func slotSource(idp *workspace.IdP, slot string) string {
	switch slot {
	case SlotInit:
		return idp.Scripts.Init
	case SlotComplete:
		return idp.Scripts.Complete
	case SlotBackchannel:
		return idp.Scripts.Backchannel
	}
	return ""
}

// errNoScript reports an IdP without a script for the slot it was called
// on; the workspace allows it while being edited.
type errNoScript struct{ idp, slot string }

func (e errNoScript) Error() string {
	return fmt.Sprintf("identity provider %s has no %s script", e.idp, e.slot)
}

// compiledScript is an IdP script as requests run it: compiled, with what
// the back end needs to know about it worked out once.
type compiledScript struct {
	prog *script.Program
	// readsCache reports that the script may read the cache variable, so
	// that a run needs the IdP's live cache (see [readsCache]).
	readsCache bool
	// wrote says whether the last run that read the database also had
	// something to write: it picks the transaction the next run starts
	// in (see [Backend.exec]). It only ever costs time, never changes an
	// answer.
	wrote atomic.Bool
}

// scriptMemo maps script sources to their compiledScript. Lookups are a
// map read behind an atomic load, so concurrent requests share it without
// a lock (the engine's own cache takes a mutex on every hit); a new
// source copies the map, which only happens when the workspace changes.
type scriptMemo struct {
	mu sync.Mutex // serializes additions
	m  atomic.Pointer[map[string]*compiledScript]
}

// maxMemoScripts bounds the memo; past it, it starts again empty, so
// edited-away scripts do not accumulate.
const maxMemoScripts = 256

// compiled returns source compiled; errors (such as a script that does not
// compile) are not remembered, as the engine does not cache them either.
func (b *Backend) compiled(source string) (*compiledScript, error) {
	if m := b.scripts.m.Load(); m != nil {
		if s, ok := (*m)[source]; ok {
			return s, nil
		}
	}
	prog, err := b.engine.Program(source)
	if err != nil {
		return nil, err
	}
	s := &compiledScript{prog: prog, readsCache: readsCache(source)}
	b.scripts.mu.Lock()
	defer b.scripts.mu.Unlock()
	old := b.scripts.m.Load()
	if old != nil {
		if kept, ok := (*old)[source]; ok {
			return kept, nil
		}
	}
	m := make(map[string]*compiledScript)
	if old != nil && len(*old) < maxMemoScripts {
		maps.Copy(m, *old)
	}
	m[source] = s
	b.scripts.m.Store(&m)
	return s, nil
}

// prepare looks up the call's IdP script for slot. Failures are kept for
// [call.runScript] to report, so that they surface where a run would
// have met them: after complete's transaction checks.
func (c *call) prepare(b *Backend, slot string) {
	c.slot = slot
	source := slotSource(c.idp, slot)
	if source == "" {
		c.scriptErr = errNoScript{c.idp.ID, slot}
		return
	}
	c.script, c.scriptErr = b.compiled(source)
}

// scriptReadsCache reports whether the call's script reads the cache. One
// that failed to load reads nothing: its run fails first.
func (c *call) scriptReadsCache() bool {
	return c.script != nil && c.script.readsCache
}

// runScript runs the call's script (see [call.prepare]) with the IdP's
// live cache read in tx when the script reads it, and leaves the result
// in c.res. It writes nothing: the endpoints write the cache changes
// with [call.applyCache], in the same transaction as the reads when
// there were any (see [Backend.exec]). Scripts have no other side
// effects, so running one again is safe.
func (c *call) runScript(tx *storage.Tx, in script.Input) error {
	c.outcome.Script = c.slot
	if c.scriptErr != nil {
		return c.scriptErr
	}
	in.IdP, in.Now = c.idp.ID, c.now
	if c.script.readsCache {
		var err error
		if in.Cache, err = loadCache(tx, c.idp.ID, c.now); err != nil {
			return err
		}
	}
	res, err := c.script.prog.Run(c.ctx, in)
	if err != nil {
		return err
	}
	c.outcome.Status, c.outcome.Cost = res.Status, res.Cost
	c.res = res
	return nil
}

// writesCache reports whether the last result changes the cache.
func (c *call) writesCache() bool {
	return len(c.res.CacheSet) > 0 || len(c.res.CacheDelete) > 0
}

// applyCache writes the last result's cache changes in tx.
func (c *call) applyCache(tx *storage.Tx) error {
	return applyCache(tx, c.idp.ID, &c.res, c.now)
}

// cacheFor loads the cache for a try-out script (see [Backend.RunScript]),
// unless its source never names the cache variable. Requests use the
// finer [readsCache], worked out once per script.
func cacheFor(tx *storage.Tx, source, idp string, now time.Time) (map[string]any, error) {
	if !strings.Contains(source, "cache") {
		return nil, nil
	}
	return loadCache(tx, idp, now)
}

// readsCache reports whether source may read the cache variable. A source
// that never spells "cache" cannot; otherwise the word may only be a map
// key of the result, as in {"cache": {"set": ...}}, which writes the
// cache without reading it. Only an identifier named cache reads it, so
// the parse tree tells: a script that only writes its cache then runs
// without a scan of the whole cache and without taking every entry into
// its transaction's read set. Anything the parser does not take counts as
// reading, which is always safe: loading a cache the script never looks
// at changes nothing but the cost.
func readsCache(source string) bool {
	if !strings.Contains(source, "cache") {
		return false
	}
	// Without macros, has(cache.k) or cache.exists(...) stay calls over
	// the identifier; optional syntax is on, as in the script dialect.
	p, err := parser.NewParser(parser.EnableOptionalSyntax(true))
	if err != nil {
		return true
	}
	tree, errs := p.Parse(common.NewTextSource(source))
	if tree == nil || len(errs.GetErrors()) > 0 {
		return true
	}
	found := false
	celast.PreOrderVisit(tree.Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		// A leading dot names the root scope: .cache is the variable too.
		if e.Kind() == celast.IdentKind && strings.TrimPrefix(e.AsIdent(), ".") == "cache" {
			found = true
		}
	}))
	return found
}

// scriptFailure turns a script or storage error into the 500 answer, kept
// apart from the answers a failing transaction check returns.
func scriptFailure(err error) *apiError {
	var e *apiError
	if errors.As(err, &e) {
		return e
	}
	return errInternal(err)
}

// CheckScript compiles source. It returns nil or a *script.CompileError
// whose issues carry line and column.
func (b *Backend) CheckScript(source string) error {
	return b.engine.Check(source)
}

// RunInput is what [Backend.RunScript] hands a script.
type RunInput struct {
	RequestPayload   string
	UserIdentifier   string
	RegistrationData string
	// IdP names the identity provider whose live cache the script reads.
	IdP string
}

// RunScript runs source as a try-out: against the IdP's live cache, read
// only. The cache changes the script asks for are in the result but are not
// applied.
func (b *Backend) RunScript(ctx context.Context, source string, in RunInput) (script.Result, error) {
	prog, err := b.engine.Program(source)
	if err != nil {
		return script.Result{}, err
	}
	now := b.now()
	input := script.Input{RequestPayload: in.RequestPayload, UserIdentifier: in.UserIdentifier,
		RegistrationData: in.RegistrationData, IdP: in.IdP, Now: now}
	err = b.db.View(func(tx *storage.Tx) error {
		var err error
		input.Cache, err = cacheFor(tx, source, in.IdP, now)
		return err
	})
	if err != nil {
		return script.Result{}, err
	}
	return prog.Run(ctx, input)
}

// ScriptError is a script of a workspace that does not compile.
type ScriptError struct {
	// IdP is the identity provider id.
	IdP string
	// Slot is "init", "complete" or "backchannel".
	Slot string
	// Err holds the issues with their line and column.
	Err *script.CompileError
}

// Error names the IdP and slot, then each issue as line:column: message.
func (e *ScriptError) Error() string {
	return fmt.Sprintf("onegini IdP %s, %s script: %s", e.IdP, e.Slot,
		strings.ReplaceAll(e.Err.Error(), "\n", "; "))
}

// Unwrap returns the compile error.
func (e *ScriptError) Unwrap() error { return e.Err }

// ValidateScripts compiles every script of every IdP of ws and returns nil,
// or all the failures joined, each a *ScriptError. Empty slots are allowed:
// calling one answers internal_server_error.
func (b *Backend) ValidateScripts(ws *workspace.Workspace) error {
	var errs []error
	for i := range ws.Onegini.IdPs {
		idp := &ws.Onegini.IdPs[i]
		for _, slot := range []string{SlotInit, SlotComplete, SlotBackchannel} {
			if err := b.checkSlot(idp, slot); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// checkSlot compiles one script, caching the program for the first call.
func (b *Backend) checkSlot(idp *workspace.IdP, slot string) error {
	source := slotSource(idp, slot)
	if source == "" {
		return nil
	}
	_, err := b.engine.Program(source)
	var ce *script.CompileError
	if errors.As(err, &ce) {
		return &ScriptError{IdP: idp.ID, Slot: slot, Err: ce}
	}
	return err
}
