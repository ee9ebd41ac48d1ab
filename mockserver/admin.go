package mockserver

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/faults"
	"regsandbox/mockserver/onegini"
	"regsandbox/mockserver/script"
	"regsandbox/mockserver/tlsca"
	"regsandbox/mockserver/workspace"
)

// maxAdminBody bounds admin request bodies: a workspace document is the
// largest thing sent there.
const maxAdminBody = 8 << 20

// adminRoutes mounts the admin API of the contract on r (the /__admin
// subrouter). Every handler is a thin shell over the Go API.
func (s *Server) adminRoutes(r *mux.Router) {
	r.Use(s.adminGuard)
	r.HandleFunc("/health", s.adminHealth).Methods(http.MethodGet)
	r.HandleFunc("/workspace", s.adminGetWorkspace).Methods(http.MethodGet)
	r.HandleFunc("/workspace", s.adminPutWorkspace).Methods(http.MethodPut)
	r.HandleFunc("/reset", s.adminReset).Methods(http.MethodPost)
	r.HandleFunc("/presets", s.adminPresets).Methods(http.MethodGet)
	r.HandleFunc("/presets/{id}", s.adminApplyPreset).Methods(http.MethodPost)
	r.HandleFunc("/ca.pem", s.adminCAPEM).Methods(http.MethodGet)
	r.HandleFunc("/ca.der", s.adminCADER).Methods(http.MethodGet)
	r.HandleFunc("/capture/social-tokens", s.adminMintSocialToken).Methods(http.MethodPost)
	s.requestRoutes(r)
	r.HandleFunc("/errors", s.adminErrors).Methods(http.MethodGet)
	r.HandleFunc("/faults", s.adminListFaults).Methods(http.MethodGet)
	r.HandleFunc("/faults", s.adminAddFault).Methods(http.MethodPost)
	r.HandleFunc("/faults/preview", s.adminPreviewFault).Methods(http.MethodPost)
	r.HandleFunc("/faults/{id}", s.adminUpdateFault).Methods(http.MethodPut)
	r.HandleFunc("/faults/{id}", s.adminDeleteFault).Methods(http.MethodDelete)
	r.HandleFunc("/scripts/check", s.adminCheckScript).Methods(http.MethodPost)
	r.HandleFunc("/scripts/run", s.adminRunScript).Methods(http.MethodPost)
	r.HandleFunc("/onegini/idps/{idp}/cache", s.adminIdPCache).Methods(http.MethodGet)
	r.HandleFunc("/capture/users", s.adminListUsers).Methods(http.MethodGet)
	r.HandleFunc("/capture/users/{uuid}", s.adminDeleteUser).Methods(http.MethodDelete)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusNotFound, "no admin endpoint "+r.Method+" "+r.URL.Path)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
	})
}

// adminGuard lets loopback clients in, and others only with the admin
// token: the admin API can rewrite everything, so it must not be open to
// the LAN by accident.
//
// A browser on this machine is a loopback client too, driven by whatever
// page it shows: without the token, the guard also refuses what a web
// page can send but a tool never does (see [browserRisk]).
func (s *Server) adminGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.validAdminToken(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !isLoopback(r.RemoteAddr) {
			adminError(w, http.StatusForbidden, "the admin API answers loopback clients only; start RegSandbox with --admin-token to allow others")
			return
		}
		if why := browserRisk(r); why != "" {
			adminError(w, http.StatusForbidden, "the admin API does not answer web pages: "+why)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// browserRisk says why r may come from a web page rather than from the
// user: a change asked by another site (a form or script on any page can
// POST to 127.0.0.1 without the browser asking first), or a request sent
// under a host name that is not this machine's (DNS rebinding makes such
// a page "same-origin" with the server). Reads from another site stay
// allowed: the browser keeps their answers from the page, and opening
// /__admin/ca.pem from a link must work.
func browserRisk(r *http.Request) string {
	if !localHostName(r.Host) {
		return "it was sent to " + strconv.Quote(r.Host) + ", not to localhost or an IP address"
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return ""
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return "a page on another site (" + site + ") asked for " + r.Method + " " + r.URL.Path
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		if u, err := url.Parse(origin); err != nil || u.Host != r.Host {
			return "a page from " + strconv.Quote(origin) + " asked for " + r.Method + " " + r.URL.Path
		}
	}
	return ""
}

// localHostName reports a Host header naming this machine: an IP address
// (loopback, or the LAN address with --lan) or localhost. A domain name
// could be one an attacker points at 127.0.0.1.
func localHostName(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return true // HTTP/1.0 without a Host: no browser sends that
	}
	if net.ParseIP(strings.Trim(host, "[]")) != nil {
		return true
	}
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

func (s *Server) validAdminToken(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.cfg.adminToken != "" &&
		subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.adminToken)) == 1
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// adminHealth answers that the server is up, with the figures a soak test
// watches for leaks: goroutines, heap and stored exchanges.
func (s *Server) adminHealth(w http.ResponseWriter, r *http.Request) {
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	health := map[string]any{"status": "ok", "workspace": s.Workspace().Name,
		"goroutines": runtime.NumGoroutine(), "heap_bytes": mem.HeapAlloc, "recorder": s.recorder.Stats()}
	if err := s.StorageProblem(); err != nil {
		health["status"], health["problem"] = "disk_full", err.Error()
	}
	writeJSON(w, http.StatusOK, health)
}

func (s *Server) adminGetWorkspace(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Workspace())
}

func (s *Server) adminPutWorkspace(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err != nil {
		adminError(w, http.StatusRequestEntityTooLarge, "the workspace document is larger than 8 MiB")
		return
	}
	if err := s.ImportWorkspace(raw); err != nil {
		adminFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.Workspace())
}

func (s *Server) adminReset(w http.ResponseWriter, r *http.Request) {
	if err := s.Reset(); err != nil {
		adminFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
}

func (s *Server) adminPresets(w http.ResponseWriter, r *http.Request) {
	presets, err := s.Presets()
	if err != nil {
		adminFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"presets": presets})
}

// adminApplyPreset starts a bundled scenario from a clean state.
func (s *Server) adminApplyPreset(w http.ResponseWriter, r *http.Request) {
	if err := s.ApplyPreset(mux.Vars(r)["id"]); err != nil {
		adminFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.Workspace())
}

func (s *Server) adminMintSocialToken(w http.ResponseWriter, r *http.Request) {
	var profile workspace.SocialToken
	if !decodeAdminBody(w, r, &profile) {
		return
	}
	token, err := s.capture.MintSocialToken(profile)
	if err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": token})
}

func (s *Server) adminListUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.capture.Users()
	if err != nil {
		adminFailure(w, err)
		return
	}
	records := make([]map[string]any, 0, len(users))
	for _, u := range users {
		records = append(records, u.Record())
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": records})
}

func (s *Server) adminDeleteUser(w http.ResponseWriter, r *http.Request) {
	if err := s.capture.DeleteUser(mux.Vars(r)["uuid"]); err != nil {
		adminFailure(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// adminCAPEM serves the CA certificate (never its key) for devices to
// install.
func (s *Server) adminCAPEM(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Disposition", `attachment; filename="`+tlsca.CAFileName+`"`)
	w.Write(s.ca.CACertPEM())
}

// adminCADER serves the CA certificate in DER, which Android's installer
// and iOS profiles also accept.
func (s *Server) adminCADER(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-x509-ca-cert")
	w.Header().Set("Content-Disposition", `attachment; filename="regsandbox-ca.crt"`)
	w.Write(s.ca.CACertDER())
}

func (s *Server) adminErrors(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"errors": ErrorCatalogue()})
}

func (s *Server) adminListFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"faults": s.Faults()})
}

func (s *Server) adminAddFault(w http.ResponseWriter, r *http.Request) {
	var rule workspace.Fault
	if !decodeAdminBody(w, r, &rule) {
		return
	}
	stored, err := s.AddFault(rule)
	if err != nil {
		adminFailure(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, stored)
}

func (s *Server) adminUpdateFault(w http.ResponseWriter, r *http.Request) {
	var rule workspace.Fault
	if !decodeAdminBody(w, r, &rule) {
		return
	}
	stored, err := s.UpdateFault(mux.Vars(r)["id"], rule)
	if err != nil {
		adminFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, stored)
}

func (s *Server) adminDeleteFault(w http.ResponseWriter, r *http.Request) {
	if err := s.DeleteFault(mux.Vars(r)["id"]); err != nil {
		adminFailure(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// previewRequest is a rule and the endpoint to preview it on.
type previewRequest struct {
	Rule     workspace.Fault `json:"rule"`
	Endpoint string          `json:"endpoint"`
}

// adminPreviewFault answers what a rule would answer, without arming it.
func (s *Server) adminPreviewFault(w http.ResponseWriter, r *http.Request) {
	var req previewRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	if req.Endpoint == "" {
		req.Endpoint = req.Rule.Endpoint
	}
	status, headers, body, err := s.PreviewFault(req.Rule, req.Endpoint)
	if err != nil && !errors.Is(err, faults.ErrDrops) && !errors.Is(err, faults.ErrHangs) && !errors.Is(err, faults.ErrPassesThrough) {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	preview := map[string]any{"status": status, "headers": headers, "body": string(body)}
	if err != nil {
		preview["note"] = err.Error()
	}
	writeJSON(w, http.StatusOK, preview)
}

// scriptRequest is the body of /scripts/check and /scripts/run.
type scriptRequest struct {
	Source           string `json:"source"`
	RequestPayload   string `json:"requestPayload"`
	UserIdentifier   string `json:"userIdentifier"`
	RegistrationData string `json:"registrationData"`
	IdP              string `json:"idp"`
}

// adminCheckScript compiles a script: {"ok":true}, or 400 with every
// issue and its position.
func (s *Server) adminCheckScript(w http.ResponseWriter, r *http.Request) {
	var req scriptRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	if err := s.onegini.CheckScript(req.Source); err != nil {
		scriptFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// adminRunScript test-runs a script against a sample request and the
// IdP's live cache, changing nothing.
func (s *Server) adminRunScript(w http.ResponseWriter, r *http.Request) {
	var req scriptRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	res, err := s.onegini.RunScript(r.Context(), req.Source, onegini.RunInput{RequestPayload: req.RequestPayload,
		UserIdentifier: req.UserIdentifier, RegistrationData: req.RegistrationData, IdP: req.IdP})
	if err != nil {
		scriptFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func scriptFailure(w http.ResponseWriter, err error) {
	body := map[string]any{"error": "script_error", "error_description": err.Error()}
	var compile *script.CompileError
	if errors.As(err, &compile) {
		body["error"], body["issues"] = "compile_error", compile.Issues
	}
	writeJSON(w, http.StatusBadRequest, body)
}

func (s *Server) adminIdPCache(w http.ResponseWriter, r *http.Request) {
	entries, err := s.onegini.CacheEntries(mux.Vars(r)["idp"])
	if err != nil {
		adminFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
}

// decodeAdminBody reads a JSON body into v, answering 400 when it cannot.
func decodeAdminBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		adminError(w, http.StatusBadRequest, "the body is not the expected JSON: "+err.Error())
		return false
	}
	return true
}

// adminFailure answers an error of the Go API with the status it deserves.
func adminFailure(w http.ResponseWriter, err error) {
	var invalid *workspace.ValidationError
	switch {
	case errors.As(err, &invalid):
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_workspace",
			"error_description": err.Error(), "problems": invalid.Problems})
	case errors.As(err, new(*faults.RuleError)):
		adminError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrNotFound), errors.Is(err, capture.ErrNoSuchUser):
		adminError(w, http.StatusNotFound, err.Error())
	default:
		adminError(w, http.StatusInternalServerError, err.Error())
	}
}

// adminError is the one writer of admin API errors.
func adminError(w http.ResponseWriter, status int, description string) {
	writeJSON(w, status, map[string]string{"error": http.StatusText(status), "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		status, raw = http.StatusInternalServerError, []byte(`{"error":"could not encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(raw)
}

func mustJSON(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return raw
}
