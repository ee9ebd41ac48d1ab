// Package capture is the mock of the Capture registration API (Janrain /
// Akamai Identity Cloud): native registration and sign-in under /oauth,
// the token endpoint, /entity and the flow documents the mobile SDKs
// download. Flows, forms, fields, rules and messages come from the
// workspace; users, tokens and codes live in the database.
package capture

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// Endpoint ids, as fault rules and the inspector name them.
const (
	EndpointRegisterNativeTraditional = "capture.register_native_traditional"
	EndpointRegisterNative            = "capture.register_native"
	EndpointAuthNative                = "capture.auth_native"
	EndpointAuthNativeTraditional     = "capture.auth_native_traditional"
	EndpointToken                     = "capture.token"
	EndpointEntity                    = "capture.entity"
	EndpointFlow                      = "capture.flow"
)

// Backend serves the Capture endpoints.
type Backend struct {
	db        *storage.DB
	workspace func() *workspace.Workspace
	now       func() time.Time
	// iterations is the PBKDF2 iteration count of new passwords.
	iterations int
	userSeq    *storage.Sequence
	patterns   sync.Map
	flowDocs   flowDocCache
}

// Option configures a [Backend].
type Option func(*Backend)

// WithClock replaces the wall clock, for tests of expiry.
func WithClock(now func() time.Time) Option { return func(b *Backend) { b.now = now } }

// WithPasswordIterations sets the PBKDF2 iteration count of the
// passwords stored from now on (see [DefaultPasswordIterations]).
func WithPasswordIterations(n int) Option { return func(b *Backend) { b.iterations = n } }

// New returns a back end over db that reads its configuration from the
// current workspace on every request.
func New(db *storage.DB, current func() *workspace.Workspace, opts ...Option) (*Backend, error) {
	b := &Backend{db: db, workspace: current, now: time.Now, iterations: DefaultPasswordIterations}
	for _, opt := range opts {
		opt(b)
	}
	seq, err := db.Sequence(keyUserSeqKey)
	if err != nil {
		return nil, err
	}
	b.userSeq = seq
	return b, nil
}

// Close returns the unused user ids to the database.
func (b *Backend) Close() error { return b.userSeq.Release() }

// Routes adds the Capture endpoints to r, each named by its endpoint id.
func (b *Backend) Routes(r *mux.Router) {
	r.Handle("/oauth/register_native_traditional", b.handler(b.registerTraditional)).Name(EndpointRegisterNativeTraditional)
	r.Handle("/oauth/register_native", b.handler(b.registerNative)).Name(EndpointRegisterNative)
	r.Handle("/oauth/auth_native", b.handler(b.authNative)).Name(EndpointAuthNative)
	r.Handle("/oauth/auth_native_traditional", b.handler(b.authTraditional)).Name(EndpointAuthNativeTraditional)
	r.Handle("/oauth/token", b.handler(b.token)).Name(EndpointToken)
	r.Handle("/entity", b.handler(b.entity)).Name(EndpointEntity)
	r.Handle("/widget_data/flows/{app}/{flow}/{version}/{locale}.json", b.handler(b.flowDocument)).
		Methods(http.MethodGet, http.MethodHead).Name(EndpointFlow)
}

// endpoint handles a request and returns the JSON answer or the error.
type endpoint func(r *http.Request, ws *workspace.Workspace) (any, *Error)

// handler adapts an endpoint: one place decodes, answers and turns
// failures into Capture's error shape.
func (b *Backend) handler(fn endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		result, e := fn(r, b.workspace())
		if e != nil {
			WriteError(w, e)
			return
		}
		if raw, ok := result.(json.RawMessage); ok {
			writeJSON(w, http.StatusOK, raw)
			return
		}
		raw, err := json.Marshal(result)
		if err != nil {
			WriteError(w, errUnexpected("could not encode the answer"))
			return
		}
		writeJSON(w, http.StatusOK, raw)
	})
}

// Success answers carry stat first, as Capture writes them.
type userAnswer struct {
	Stat              string         `json:"stat"`
	CaptureUser       map[string]any `json:"capture_user"`
	IsNew             *bool          `json:"is_new,omitempty"`
	AccessToken       string         `json:"access_token,omitempty"`
	AuthorizationCode string         `json:"authorization_code,omitempty"`
}

func answerFor(u *User, tokens issued, isNew *bool) userAnswer {
	return userAnswer{Stat: "ok", CaptureUser: u.Record(), IsNew: isNew,
		AccessToken: tokens.AccessToken, AuthorizationCode: tokens.AuthorizationCode}
}

func ptr[T any](v T) *T { return &v }
