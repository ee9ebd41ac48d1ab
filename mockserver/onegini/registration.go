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

// statusAnswer is the backchannel's answer, status first as documented.
// data is left out when the script returned no payload.
type statusAnswer struct {
	Status int    `json:"status"`
	Data   string `json:"data,omitempty"`
}

// serveBackchannel runs the backchannel script. Its cache changes are
// applied whatever the status: a script may well count failed attempts.
func (b *Backend) serveBackchannel(c *call) (any, *apiError) {
	var res script.Result
	err := b.db.Update(func(tx *storage.Tx) error {
		var err error
		res, err = c.runScript(tx, b.engine, SlotBackchannel, script.Input{RequestPayload: c.body.data})
		return err
	})
	if err != nil {
		return nil, scriptFailure(err)
	}
	return statusAnswer{Status: res.Status, Data: res.ResponsePayload}, nil
}

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
	var answer initAnswer
	err := b.db.Update(func(tx *storage.Tx) error {
		res, err := c.runScript(tx, b.engine, SlotInit, script.Input{RequestPayload: c.body.data})
		if err != nil {
			return err
		}
		answer = initAnswer{Data: res.ResponsePayload, Status: res.Status}
		if !res.Success() {
			return nil
		}
		answer.TransactionID = uuid.NewString()
		t := transaction{IdP: c.idp.ID, ClientID: c.client.ID, RegistrationData: res.RegistrationData,
			Expires: c.now.Add(TransactionTTL)}
		return tx.PutTTL(prefixTransaction+answer.TransactionID, t, TransactionTTL)
	})
	if err != nil {
		return nil, scriptFailure(err)
	}
	return answer, nil
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
	var res script.Result
	err := b.db.Update(func(tx *storage.Tx) error {
		var err error
		res, err = c.completeInTx(tx, b.engine)
		return err
	})
	if err != nil {
		return nil, scriptFailure(err)
	}
	answer := completeAnswer{Status: res.Status, Data: res.ResponsePayload}
	if res.Success() {
		if answer.OAuthToken, err = b.key.issue(c.tokenRequest(res.User, scopes)); err != nil {
			return nil, errInternal(err)
		}
	}
	return answer, nil
}

// completeInTx runs the complete script in tx, with the transaction of a
// two-step IdP. Any error rolls back the script's cache changes and leaves
// the transaction as it was.
func (c *call) completeInTx(tx *storage.Tx, engine *script.Engine) (script.Result, error) {
	in := script.Input{RequestPayload: c.body.data}
	var t *transaction
	if c.idp.TwoStep {
		var err error
		if t, err = c.openTransaction(tx); err != nil {
			return script.Result{}, err
		}
		in.RegistrationData = t.RegistrationData
	}
	res, err := c.runScript(tx, engine, SlotComplete, in)
	if err != nil {
		return script.Result{}, err
	}
	if res.Success() && res.User == nil {
		return script.Result{}, errInvalidProfile()
	}
	if t == nil {
		return res, nil
	}
	return res, c.settleTransaction(tx, t, &res)
}

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

// settleTransaction ends the transaction after a success (it is used up)
// or an unrecoverable failure (the app must start again); after a
// retryable one it stays open, with the registration data the script
// passed on, if any.
func (c *call) settleTransaction(tx *storage.Tx, t *transaction, res *script.Result) error {
	key := prefixTransaction + c.body.transactionID
	if !res.Retryable() {
		return tx.Delete(key)
	}
	if res.RegistrationData == "" {
		return nil
	}
	t.RegistrationData = res.RegistrationData
	return tx.PutTTL(key, t, t.Expires.Sub(c.now))
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
