package onegini

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

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

// runScript runs the call's IdP script for slot inside tx: it reads the
// IdP's live cache in tx and writes the script's cache changes in tx, so a
// concurrent call that changes the same entries makes the storage retry the
// whole transaction, script included. Scripts have no other side effects,
// so running one again is safe.
func (c *call) runScript(tx *storage.Tx, engine *script.Engine, slot string, in script.Input) (script.Result, error) {
	c.outcome.Script = slot
	source := slotSource(c.idp, slot)
	if source == "" {
		return script.Result{}, errNoScript{c.idp.ID, slot}
	}
	prog, err := engine.Program(source)
	if err != nil {
		return script.Result{}, err
	}
	in.IdP, in.Now = c.idp.ID, c.now
	if in.Cache, err = cacheFor(tx, source, c.idp.ID, c.now); err != nil {
		return script.Result{}, err
	}
	res, err := prog.Run(c.ctx, in)
	if err != nil {
		return script.Result{}, err
	}
	c.outcome.Status, c.outcome.Cost = res.Status, res.Cost
	return res, applyCache(tx, c.idp.ID, &res, c.now)
}

// cacheFor loads the cache for a script, unless its source never names
// the cache variable: most scripts do not, and skipping the scan saves the
// bulk of a request's storage work.
func cacheFor(tx *storage.Tx, source, idp string, now time.Time) (map[string]any, error) {
	if !strings.Contains(source, "cache") {
		return nil, nil
	}
	return loadCache(tx, idp, now)
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
