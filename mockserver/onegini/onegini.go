// Package onegini is the mock of the OneWelcome (Onegini) Token Server's
// custom registration: the backchannel endpoint an API client calls from a
// server, and the init and complete endpoints the mobile SDKs call. Each
// runs the identity provider's CEL script (see [regsandbox/mockserver/script])
// for the slot; identity providers, clients and scripts come from the
// workspace, while the IdP caches, init transactions and the id_token
// signing key live in the database.
//
// # Checks
//
// Every endpoint checks, in this order, and answers the first failure with
// [WriteError]:
//
//  1. client credentials, by HTTP Basic or the client_id and client_secret
//     form fields: 400 invalid_client (an API client for the backchannel, an
//     app client for init and complete);
//  2. backchannel only: the API client's User Registration scope, 403
//     insufficient_permissions. The Token Server guards the endpoint by the
//     client's authority before it looks at the path, so a client without the
//     scope learns nothing about which IdPs exist;
//  3. the IdP exists: 404 invalid_idp_identifier;
//  4. the IdP is enabled: 403 idp_disabled;
//  5. the request body: 400 invalid_request (malformed JSON, data not a
//     string), init on a one-step IdP (400 invalid_request), complete's
//     scope (400 invalid_scope) and, for two-step IdPs, its transaction_id
//     (400 invalid_request when missing, unknown, expired or another
//     client's);
//  6. the script: 500 internal_server_error when it fails, exceeds its
//     budget or returns a malformed result; complete answers 400
//     invalid_profile when a 2xxx result names no user.
//
// Steps 1 to 4 follow the order of the documented error table, except that
// an IdP must be found before it can be found disabled. Script
// statuses, 2xxx, 4xxx and 5xxx alike, are answered with HTTP 200 and the
// status in the body, as the Token Server does: the script, not the
// server, decides whether a registration step succeeded.
//
// # Requests
//
// The body is JSON, {"data": "<string>"} (complete also takes
// "transaction_id" and "scope", an array of scopes or one space-separated
// string), or a url-encoded form with the same fields plus client_id and
// client_secret; scope may repeat there. An empty body is an empty
// payload. JavaScript comments in a JSON body are ignored, so the
// documentation's examples, which carry "// optional" remarks, work as
// printed.
package onegini

import (
	"context"
	"crypto/ecdsa"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"regsandbox/mockserver/script"
	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// Endpoint ids, as fault rules and the inspector name them.
const (
	EndpointBackchannel = "onegini.backchannel"
	EndpointInit        = "onegini.init"
	EndpointComplete    = "onegini.complete"
)

// TransactionTTL is how long a transaction started by init waits for its
// complete call.
const TransactionTTL = 10 * time.Minute

// Backend serves the Onegini custom registration endpoints.
type Backend struct {
	db        *storage.DB
	workspace func() *workspace.Workspace
	engine    *script.Engine
	now       func() time.Time
	key       *signingKey
	// scripts holds the IdP scripts as requests run them.
	scripts scriptMemo
	// report receives each request's Outcome; nil when nobody asked.
	report func(*http.Request, *Outcome)
}

// Option configures a [Backend].
type Option func(*Backend)

// WithClock replaces the wall clock, for tests of cache and transaction
// expiry and of token lifetimes.
func WithClock(now func() time.Time) Option { return func(b *Backend) { b.now = now } }

// New returns a back end over db that reads its configuration from the
// current workspace on every request and runs scripts with engine. It
// loads the id_token signing key from db, making and storing one on first
// start.
func New(db *storage.DB, current func() *workspace.Workspace, engine *script.Engine, opts ...Option) (*Backend, error) {
	b := &Backend{db: db, workspace: current, engine: engine, now: time.Now}
	for _, opt := range opts {
		opt(b)
	}
	key, err := loadSigningKey(db)
	if err != nil {
		return nil, err
	}
	b.key = key
	return b, nil
}

// PublicKey returns the key that verifies the id_tokens the back end
// signs (ES256).
func (b *Backend) PublicKey() *ecdsa.PublicKey { return &b.key.private.PublicKey }

// KeyID returns the kid header of the id_tokens: the RFC 7638 thumbprint
// of [Backend.PublicKey].
func (b *Backend) KeyID() string { return b.key.id }

// Routes adds the Onegini endpoints to r, each named by its endpoint id.
func (b *Backend) Routes(r *mux.Router) {
	r.Handle("/oauth/api/v3/custom-registration/{idp}/backchannel", b.handler(apiClient, b.serveBackchannel)).
		Methods(http.MethodPost).Name(EndpointBackchannel)
	r.Handle("/oauth/custom-registration/{idp}/init", b.handler(appClient, b.serveInit)).
		Methods(http.MethodPost).Name(EndpointInit)
	r.Handle("/oauth/custom-registration/{idp}/complete", b.handler(appClient, b.serveComplete)).
		Methods(http.MethodPost).Name(EndpointComplete)
}

// call is one request: its body, and once it passed the access checks,
// what the endpoint works with. Calls are pooled (see [getCall]), so
// nothing may keep one, or anything in it, after the handler returns.
type call struct {
	ctx    context.Context
	r      *http.Request
	ws     *workspace.Workspace
	now    time.Time
	client workspace.OneginiClient
	idp    *workspace.IdP
	body   request
	// outcome is filled for the inspector (see [WithOutcomeReport]).
	outcome Outcome

	// script is the slot's script (see [call.prepare]).
	slot      string
	script    *compiledScript
	scriptErr error
	// res is the script's result, t complete's transaction of a two-step
	// IdP, both from the last run.
	res script.Result
	t   *transaction

	// answer holds the success answer, so that returning it boxes a
	// pointer rather than a copy.
	answer struct {
		backchannel statusAnswer
		init        initAnswer
		complete    completeAnswer
	}

	// Buffers kept across requests: the raw body, unquoted JSON strings
	// and decoded Basic credentials.
	raw         []byte
	scratch     []byte
	credentials [256]byte
}

// calls recycles calls: a request needs one, its body buffer and its
// answer, and none outlives the handler.
var calls = sync.Pool{New: func() any { return new(call) }}

// maxPooledBuffer bounds the buffers a pooled call keeps, so that one
// large body does not pin its memory.
const maxPooledBuffer = 64 << 10

// getCall returns an empty call.
func getCall() *call { return calls.Get().(*call) }

// putCall clears c, keeping its buffers, and returns it to the pool.
func putCall(c *call) {
	raw, scratch := c.raw[:0], c.scratch[:0]
	if cap(raw) > maxPooledBuffer {
		raw = nil
	}
	if cap(scratch) > maxPooledBuffer {
		scratch = nil
	}
	*c = call{raw: raw, scratch: scratch}
	calls.Put(c)
}

// endpoint handles a checked request and returns the JSON answer or the
// error to send.
type endpoint func(c *call) (any, *apiError)

// handler adapts an endpoint: one place runs the access checks in the
// documented order, answers, and turns failures into Onegini's error shape.
func (b *Backend) handler(kind clientKind, fn endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := getCall()
		defer putCall(c)
		if b.report != nil {
			// Deferred after putCall, so it runs first: c is still this
			// request's.
			defer b.report(r, &c.outcome)
		}
		ws := b.workspace()
		c.readRequest(w, r, ws.Settings.MaxBodyBytes)
		e := b.admit(c, r, ws, kind)
		if e == nil {
			var answer any
			answer, e = fn(c)
			if e == nil {
				writeAnswer(w, answer)
				return
			}
		}
		if e.cause != nil && c.outcome.Err == "" {
			c.outcome.Err = e.cause.Error()
		}
		WriteError(w, e.status, e.code, e.description)
	})
}

// admit runs checks 1 to 5 of the package documentation and fills c.
func (b *Backend) admit(c *call, r *http.Request, ws *workspace.Workspace, kind clientKind) *apiError {
	if e := c.authenticate(r, &ws.Onegini, kind); e != nil {
		return e
	}
	if kind == apiClient && !c.client.HasScope(workspace.ScopeUserRegistration) {
		return errInsufficientPermissions()
	}
	idp, ok := ws.Onegini.IdP(mux.Vars(r)["idp"])
	if !ok {
		return errInvalidIdP()
	}
	if !idp.Enabled {
		return errIdPDisabled()
	}
	if c.body.err != nil {
		return c.body.err
	}
	c.outcome.IdP = idp.ID
	c.ctx, c.r, c.ws, c.now, c.idp = r.Context(), r, ws, b.now(), idp
	return nil
}
