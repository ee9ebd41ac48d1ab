// Package mockserver is RegSandbox's server: it routes requests to the
// two mocked back ends (Capture in [regsandbox/mockserver/capture], Onegini
// in [regsandbox/mockserver/onegini]), serves the admin API under
// /__admin/, and owns the Go API that the window and the admin API share,
// so the two can never disagree.
//
// Data flows one way: request → router → faults → back end (→ script) →
// response, recorded on the way out.
package mockserver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"regsandbox/fixtures"
	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/faults"
	"regsandbox/mockserver/onegini"
	"regsandbox/mockserver/recorder"
	"regsandbox/mockserver/script"
	"regsandbox/mockserver/tlsca"
	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// keyWorkspace is where the active workspace is stored.
const keyWorkspace = "config/workspace"

// Server is a RegSandbox instance: configuration, back ends and routes.
type Server struct {
	db       *storage.DB
	log      *storage.DB // the request log: db itself unless WithRequestLog
	now      func() time.Time
	cfg      config
	capture  *capture.Backend
	onegini  *onegini.Backend
	scripts  *script.Engine
	faults   *faults.Engine
	recorder *recorder.Recorder
	ca       *tlsca.Authority
	baseURL  atomic.Value // string: the HTTP base URL once listening

	workspace atomic.Pointer[workspace.Workspace]
	handler   atomic.Pointer[http.Handler]
	// configMu serializes configuration changes; reads never wait on it.
	configMu sync.Mutex
	watchers []func(*workspace.Workspace)
	// faultsMu makes a read-change-write of the fault rules atomic.
	faultsMu sync.Mutex
}

var _ http.Handler = (*Server)(nil)

type config struct {
	now        func() time.Time
	iterations int
	adminToken string
	lanAddress string
	requestLog *storage.DB
	timeouts   connTimeouts
}

// connTimeouts bound what a client may take over a connection, so that
// slow or stalled ones (slowloris) cannot hold the server's.
type connTimeouts struct {
	// header is for the request line and headers, read for the whole
	// request (body included), idle for the next request on a kept-alive
	// connection.
	header, read, idle time.Duration
}

// defaultTimeouts are generous, since bodies are small and a person may
// be stepping through a client in a debugger, but finite.
var defaultTimeouts = connTimeouts{header: 10 * time.Second, read: 60 * time.Second, idle: 2 * time.Minute}

// Option configures a [Server].
type Option func(*config)

// WithClock replaces the wall clock, for tests of expiry.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithPasswordIterations sets the PBKDF2 iteration count of Capture
// passwords.
func WithPasswordIterations(n int) Option { return func(c *config) { c.iterations = n } }

// WithAdminToken lets clients that are not on the loopback interface use
// the admin API when they send "Authorization: Bearer <token>".
func WithAdminToken(token string) Option { return func(c *config) { c.adminToken = token } }

// WithLANAddress adds the machine's LAN address to the names the HTTPS
// certificate covers, for phones on the same network.
func WithLANAddress(ip string) Option { return func(c *config) { c.lanAddress = ip } }

// WithRequestLog keeps the recorded exchanges in log instead of db: a
// database without synced writes, so that recording every exchange does
// not wait for the disk the way registrations and configuration must.
func WithRequestLog(log *storage.DB) Option { return func(c *config) { c.requestLog = log } }

// New opens a server over db, loading the stored workspace, or the
// default one on first start.
func New(db *storage.DB, opts ...Option) (*Server, error) {
	cfg := config{now: time.Now, iterations: capture.DefaultPasswordIterations, timeouts: defaultTimeouts}
	for _, opt := range opts {
		opt(&cfg)
	}
	s := &Server{db: db, now: cfg.now, cfg: cfg, scripts: script.NewEngine(),
		faults: faults.NewEngine(faults.WithClock(cfg.now))}
	ws, err := s.loadWorkspace()
	if err != nil {
		return nil, err
	}
	s.workspace.Store(ws)
	if err := s.faults.SetRules(ws.Faults); err != nil {
		return nil, fmt.Errorf("the stored fault rules are invalid: %w", err)
	}
	log := db
	if cfg.requestLog != nil && cfg.requestLog != db {
		log = cfg.requestLog
		// Earlier versions recorded into db; what they left there is
		// no longer read.
		if err := recorder.DropFrom(db); err != nil {
			return nil, err
		}
	}
	s.log = log
	s.recorder = recorder.New(log, recorder.WithClock(cfg.now), recorder.WithSkip(recorder.SkipAdmin),
		recorder.WithLimit(ws.Settings.RecordLimit),
		recorder.WithMaxAge(time.Duration(ws.Settings.RecordMaxAgeMinutes)*time.Minute))
	s.capture, err = capture.New(db, s.Workspace, capture.WithClock(cfg.now), capture.WithPasswordIterations(cfg.iterations))
	if err != nil {
		return nil, err
	}
	s.onegini, err = onegini.New(db, s.Workspace, s.scripts, onegini.WithClock(cfg.now),
		onegini.WithOutcomeReport(noteScript))
	if err != nil {
		return nil, err
	}
	if s.ca, err = tlsca.Open(db, tlsca.WithClock(cfg.now)); err != nil {
		return nil, fmt.Errorf("opening the local certificate authority: %w", err)
	}
	if cfg.lanAddress != "" {
		if err := s.ca.SetLANAddress(cfg.lanAddress); err != nil {
			return nil, err
		}
	}
	s.storeHandler()
	return s, nil
}

// StorageProblem is nil while the data directory takes writes, and else
// says why not and what to do: the disk is full. Registrations and
// configuration changes fail meanwhile, each in its API's shape, and
// exchanges go unrecorded; reads and everything else go on. It looks at
// the disk now, so what it says holds for the next write of either
// database, not only after their guards' next rounds.
func (s *Server) StorageProblem() error {
	if err := s.db.RecheckSpace(); err != nil || s.log == s.db {
		return err
	}
	return s.log.RecheckSpace()
}

// ReleaseHeld lets go of requests that fault rules delay or hang, so a
// shutdown does not wait for them.
func (s *Server) ReleaseHeld() { s.faults.Close() }

// Close releases what the server holds; the database stays open.
func (s *Server) Close() error {
	s.faults.Close()
	return errors.Join(s.recorder.Close(), s.capture.Close())
}

// ServeHTTP serves a request with the current routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.handler.Load()).ServeHTTP(w, r)
}

// storeHandler builds fresh routes for the current configuration and
// swaps them in. Routers are never changed while they serve: a new one
// replaces the old.
func (s *Server) storeHandler() {
	admin := mux.NewRouter()
	s.adminRoutes(admin.PathPrefix("/__admin").Subrouter())
	api := mux.NewRouter()
	s.capture.Routes(api)
	s.onegini.Routes(api)
	api.Use(recorder.TagEndpoint, s.faults.Middleware(faults.RouteName, noteFault))
	api.NotFoundHandler = http.HandlerFunc(notFound)
	// Mock calls go request → guards → router → back end; the admin API
	// is neither limited like the mock nor mistaken for one of its calls.
	mock := recoverPanics(s.recorder.Wrap(s.limitBodies(api)), nil)
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/__admin" || strings.HasPrefix(r.URL.Path, "/__admin/") {
			admin.ServeHTTP(w, r)
			return
		}
		mock.ServeHTTP(w, r)
	})
	s.handler.Store(&h)
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]string{
		"error": "not_found", "error_description": "RegSandbox has no endpoint " + r.Method + " " + r.URL.Path})
}

func (s *Server) loadWorkspace() (*workspace.Workspace, error) {
	raw, err := s.storedWorkspace()
	if err != nil {
		return nil, err
	}
	if raw == nil {
		ws, err := workspace.Parse(fixtures.DefaultWorkspace)
		if err != nil {
			return nil, fmt.Errorf("the bundled default workspace is invalid: %w", err)
		}
		return ws, s.saveWorkspace(ws)
	}
	ws, err := workspace.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("the stored workspace cannot be read (%w); start with a fresh data directory or fix it", err)
	}
	return ws, nil
}

func (s *Server) storedWorkspace() ([]byte, error) {
	var raw []byte
	err := s.db.View(func(tx *storage.Tx) error {
		var err error
		raw, err = tx.GetRaw(keyWorkspace)
		return err
	})
	return raw, err
}

func (s *Server) saveWorkspace(ws *workspace.Workspace) error {
	return storage.Store(s.db, keyWorkspace, ws)
}

// Workspace returns the active configuration. It is a snapshot: callers
// must not change it; use [workspace.Workspace.Clone] and
// [Server.SetWorkspace].
func (s *Server) Workspace() *workspace.Workspace { return s.workspace.Load() }

// SetWorkspace validates ws completely and, only when it is valid, stores
// it and makes it active. A refused workspace changes nothing.
func (s *Server) SetWorkspace(ws *workspace.Workspace) error {
	ws = ws.Clone()
	if err := s.check(ws); err != nil {
		return err
	}
	s.configMu.Lock()
	defer s.configMu.Unlock()
	if err := s.saveWorkspace(ws); err != nil {
		return fmt.Errorf("saving the workspace: %w", err)
	}
	if err := s.faults.SetRules(ws.Faults); err != nil {
		return err
	}
	s.recorder.SetRetention(ws.Settings.RecordLimit, time.Duration(ws.Settings.RecordMaxAgeMinutes)*time.Minute)
	s.workspace.Store(ws)
	s.storeHandler()
	for _, fn := range s.watchers {
		fn(ws)
	}
	return nil
}

// OnWorkspaceChange calls fn, on the goroutine that made the change, with
// every workspace that becomes active, so a window can redraw whatever
// changed it: the admin API, an import or the window itself.
func (s *Server) OnWorkspaceChange(fn func(*workspace.Workspace)) {
	s.configMu.Lock()
	defer s.configMu.Unlock()
	s.watchers = append(s.watchers, fn)
}

// Presets lists the bundled demo scenarios.
func (s *Server) Presets() ([]fixtures.Preset, error) { return fixtures.Presets() }

// ApplyPreset starts the scenario with the given id from a clean state:
// users, tokens and recorded exchanges are forgotten.
func (s *Server) ApplyPreset(id string) error {
	presets, err := fixtures.Presets()
	if err != nil {
		return err
	}
	for _, p := range presets {
		if p.ID != id {
			continue
		}
		ws, err := p.Workspace()
		if err != nil {
			return err
		}
		if err := s.SetWorkspace(ws); err != nil {
			return err
		}
		return s.forgetState()
	}
	return fmt.Errorf("%w: no preset %q", ErrNotFound, id)
}

// ImportWorkspace parses a workspace document and activates it.
func (s *Server) ImportWorkspace(raw []byte) error {
	ws, err := workspace.Parse(raw)
	if err != nil {
		return err
	}
	return s.SetWorkspace(ws)
}

// check validates what the workspace package cannot check alone.
func (s *Server) check(ws *workspace.Workspace) error {
	for i := range ws.Faults {
		if ws.Faults[i].ID == "" {
			ws.Faults[i].ID = newFaultID()
		}
	}
	reparsed, err := workspace.Parse(mustJSON(ws))
	if err != nil {
		return err
	}
	*ws = *reparsed
	if err := s.onegini.ValidateScripts(ws); err != nil {
		return &workspace.ValidationError{Problems: strings.Split(err.Error(), "\n")}
	}
	return s.checkFaults(ws)
}

// Reset restores the default workspace and forgets every user, token and
// recorded exchange.
func (s *Server) Reset() error {
	ws, err := workspace.Parse(fixtures.DefaultWorkspace)
	if err != nil {
		return err
	}
	if err := s.SetWorkspace(ws); err != nil {
		return err
	}
	return s.forgetState()
}

// forgetState drops users, tokens, caches and recorded exchanges.
func (s *Server) forgetState() error {
	return errors.Join(s.capture.Reset(), s.onegini.Reset(), s.recorder.Clear())
}

// CA returns the local certificate authority behind HTTPS.
func (s *Server) CA() *tlsca.Authority { return s.ca }

// Onegini returns the Onegini back end, for its scripts and caches.
func (s *Server) Onegini() *onegini.Backend { return s.onegini }

// Capture returns the Capture back end, for its users and tokens.
func (s *Server) Capture() *capture.Backend { return s.capture }

// ErrNotFound reports an id that names nothing.
var ErrNotFound = errors.New("not found")
