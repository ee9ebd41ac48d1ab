package onegini

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"regsandbox/mockserver/script"
	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// Error lets an apiError leave a storage transaction, which rolls it back.
func (e *apiError) Error() string { return e.code + ": " + e.description }

// A step is what an endpoint does with one run of its script: eval reads
// what the run needs through tx and runs the script, dirty then reports
// whether the run left anything to store, and write stores it in tx.
// [Backend.exec] picks the transactions they run in.
type step interface {
	eval(tx *storage.Tx) error
	dirty() bool
	write(tx *storage.Tx) error
}

// exec runs st with as few storage transactions as keep the answers and
// the atomicity of running everything in one read-write transaction, as
// the back end first did. reads says whether st.eval reads the database;
// when it does not, eval gets a nil tx. s is the script st runs, nil when
// it failed to load.
//
// Every Badger transaction, read-only or not, starts by waiting for the
// commits in flight (oracle.readTs), each an fsync on a synced database;
// a read-write one adds conflict bookkeeping and retries. So:
//
//   - A run that reads nothing cannot depend on the database: it runs
//     outside any transaction, and what it leaves to write, if anything,
//     is stored by a transaction that only writes. One without reads never
//     conflicts, so this is what running the script in it would have
//     done. The seed backchannel takes no transaction at all.
//   - A run that reads runs in a read-only transaction, as good a snapshot
//     as a read-write one's when nothing is written. When it has
//     something to write after all, it runs again inside a read-write
//     transaction, whose reads the commit checks for conflicts as before:
//     racing completes on one QR code still register once.
//
// That second run is wasted for scripts that usually write, so when the
// last run of s wrote, exec starts in the read-write transaction at once.
func (b *Backend) exec(st step, reads bool, s *compiledScript) error {
	if !reads {
		if err := st.eval(nil); err != nil || !st.dirty() {
			return err
		}
		return b.db.Update(st.write)
	}
	if s == nil || !s.wrote.Load() {
		if err := b.db.View(st.eval); err != nil || !st.dirty() {
			return err
		}
	}
	var dirty bool
	err := b.db.Update(func(tx *storage.Tx) error {
		if err := st.eval(tx); err != nil {
			return err
		}
		if dirty = st.dirty(); !dirty {
			return nil
		}
		return st.write(tx)
	})
	if err == nil && s != nil && s.wrote.Load() != dirty {
		s.wrote.Store(dirty)
	}
	return err
}

// statusAnswer is the backchannel's answer, status first as documented.
// data is left out when the script returned no payload.
type statusAnswer struct {
	Status int    `json:"status"`
	Data   string `json:"data,omitempty"`
}

// serveBackchannel runs the backchannel script. Its cache changes are
// applied whatever the status: a script may well count failed attempts.
func (b *Backend) serveBackchannel(c *call) (any, *apiError) {
	c.prepare(b, SlotBackchannel)
	if err := b.exec(backchannelStep{c}, c.scriptReadsCache(), c.script); err != nil {
		return nil, scriptFailure(err)
	}
	c.answer.backchannel = statusAnswer{Status: c.res.Status, Data: c.res.ResponsePayload}
	return &c.answer.backchannel, nil
}

// backchannelStep stores the script's cache changes. Steps hold nothing
// but the call, so passing one as a step allocates nothing.
type backchannelStep struct{ *call }

func (s backchannelStep) eval(tx *storage.Tx) error {
	return s.runScript(tx, script.Input{RequestPayload: s.body.data})
}

func (s backchannelStep) dirty() bool { return s.writesCache() }

func (s backchannelStep) write(tx *storage.Tx) error { return s.applyCache(tx) }

// initAnswer is init's answer, in the documentation's key order.
type initAnswer struct {
	TransactionID string `json:"transaction_id,omitempty"`
	Data          string `json:"data,omitempty"`
	Status        int    `json:"status"`
}

// transaction is a two-step registration between init and complete.
type transaction struct {
	IdP      string `json:"idp"`
	ClientID string `json:"client_id"`
	// RegistrationData is what init's script passed on to complete's.
	RegistrationData string    `json:"registration_data,omitempty"`
	Expires          time.Time `json:"expires"`
}

// serveInit runs the init script of a two-step IdP and, when it succeeds,
// opens a transaction for complete. A failed init opens none: the app
// starts again with init.
func (b *Backend) serveInit(c *call) (any, *apiError) {
	if !c.idp.TwoStep {
		return nil, errInvalidRequest(descOneStepInit)
	}
	c.prepare(b, SlotInit)
	if err := b.exec(initStep{c}, c.scriptReadsCache(), c.script); err != nil {
		return nil, scriptFailure(err)
	}
	a := &c.answer.init
	a.Data, a.Status = c.res.ResponsePayload, c.res.Status
	return a, nil
}

// initStep stores the script's cache changes and, after a success, the
// new transaction, whose id goes into the answer.
type initStep struct{ *call }

func (s initStep) eval(tx *storage.Tx) error {
	s.answer.init.TransactionID = "" // from a run that did not commit
	return s.runScript(tx, script.Input{RequestPayload: s.body.data})
}

func (s initStep) dirty() bool { return s.writesCache() || s.res.Success() }

func (s initStep) write(tx *storage.Tx) error {
	if err := s.applyCache(tx); err != nil || !s.res.Success() {
		return err
	}
	id := uuid.NewString()
	s.answer.init.TransactionID = id
	t := transaction{IdP: s.idp.ID, ClientID: s.client.ID, RegistrationData: s.res.RegistrationData,
		Expires: s.now.Add(TransactionTTL)}
	return tx.PutTTL(prefixTransaction+id, t, TransactionTTL)
}

// completeAnswer is complete's answer, in the documentation's key order;
// oauth_token only comes with a 2xxx status.
type completeAnswer struct {
	Status     int         `json:"status"`
	OAuthToken *oauthToken `json:"oauth_token,omitempty"`
	Data       string      `json:"data,omitempty"`
}

// serveComplete runs the complete script and, when it registers a user,
// issues the tokens.
func (b *Backend) serveComplete(c *call) (any, *apiError) {
	scopes, e := grantedScopes(c.client, c.body.scopes)
	if e != nil {
		return nil, e
	}
	if c.idp.TwoStep && c.body.transactionID == "" {
		return nil, errInvalidRequest(descTransactionNone)
	}
	c.prepare(b, SlotComplete)
	if err := b.exec(completeStep{c}, c.idp.TwoStep || c.scriptReadsCache(), c.script); err != nil {
		return nil, scriptFailure(err)
	}
	answer := &c.answer.complete
	answer.Status, answer.Data = c.res.Status, c.res.ResponsePayload
	if c.res.Success() {
		var err error
		if answer.OAuthToken, err = b.key.issue(c.tokenRequest(c.res.User, scopes)); err != nil {
			return nil, errInternal(err)
		}
	}
	return answer, nil
}

// completeStep runs the complete script with the transaction of a
// two-step IdP, and stores the script's cache changes and what becomes of
// the transaction. Any error leaves both as they were.
type completeStep struct{ *call }

func (s completeStep) eval(tx *storage.Tx) error {
	in := script.Input{RequestPayload: s.body.data}
	s.t = nil
	if s.idp.TwoStep {
		t, err := s.openTransaction(tx)
		if err != nil {
			return err
		}
		s.t, in.RegistrationData = t, t.RegistrationData
	}
	if err := s.runScript(tx, in); err != nil {
		return err
	}
	if s.nameless() && !s.writesCache() {
		return errInvalidProfile()
	}
	return nil
}

func (s completeStep) dirty() bool {
	return s.writesCache() || s.t != nil && s.settles()
}

func (s completeStep) write(tx *storage.Tx) error {
	if err := s.applyCache(tx); err != nil {
		return err
	}
	// A result without a user is refused after its cache changes were
	// tried, so that one that cannot be stored answers as it always did;
	// the error rolls them back.
	if s.nameless() {
		return errInvalidProfile()
	}
	if s.t == nil {
		return nil
	}
	return s.settleTransaction(tx)
}

// nameless reports a 2xxx result that names no user, which complete
// answers with invalid_profile.
func (c *call) nameless() bool { return c.res.Success() && c.res.User == nil }

// openTransaction reads the call's transaction; another IdP's or client's
// counts as unknown, and so does an expired one.
func (c *call) openTransaction(tx *storage.Tx) (*transaction, error) {
	var t transaction
	found, err := tx.Get(prefixTransaction+c.body.transactionID, &t)
	if err != nil {
		return nil, err
	}
	if !found || t.IdP != c.idp.ID || t.ClientID != c.client.ID || !c.now.Before(t.Expires) {
		return nil, errInvalidRequest(descTransactionBad)
	}
	return &t, nil
}

// settles reports whether the last result changes the transaction: it
// ends after a success (it is used up) or an unrecoverable failure (the
// app must start again); after a retryable one it stays open, with the
// registration data the script passed on, if any.
func (c *call) settles() bool {
	return !c.res.Retryable() || c.res.RegistrationData != ""
}

// settleTransaction writes what [call.settles] says.
func (c *call) settleTransaction(tx *storage.Tx) error {
	key := prefixTransaction + c.body.transactionID
	if !c.res.Retryable() {
		return tx.Delete(key)
	}
	if c.res.RegistrationData == "" {
		return nil
	}
	c.t.RegistrationData = c.res.RegistrationData
	return tx.PutTTL(key, c.t, c.t.Expires.Sub(c.now))
}

// grantedScopes checks the requested scopes against the app client's; a
// request that names none gets all of the client's, as the documentation
// says ("the default scopes are granted").
func grantedScopes(client workspace.OneginiClient, requested []string) ([]string, *apiError) {
	if len(requested) == 0 {
		return client.Scopes, nil
	}
	for _, s := range requested {
		if !client.HasScope(s) {
			return nil, errInvalidScope()
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(requested))), nil
}

// tokenRequest describes the tokens for the user a complete registered.
func (c *call) tokenRequest(user *script.User, scopes []string) tokenRequest {
	seconds := c.ws.Onegini.AccessTokenSeconds
	if seconds <= 0 {
		seconds = workspace.DefaultAccessTokenSeconds
	}
	return tokenRequest{
		issuer:     issuerFor(c.ws.Onegini.Issuer, c.r),
		clientID:   c.client.ID,
		userID:     user.ID,
		attributes: user.Attributes,
		scopes:     scopes,
		now:        c.now,
		lifetime:   time.Duration(seconds) * time.Second,
	}
}
