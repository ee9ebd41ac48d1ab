package mockserver

import (
	"fmt"
	"io"
	"net/http"

	"regsandbox/mockserver/onegini"
	"regsandbox/mockserver/recorder"
	"regsandbox/mockserver/workspace"
)

// noteFault tells the inspector which rule answered.
func noteFault(r *http.Request, rule workspace.Fault) {
	name := rule.Name
	if name == "" {
		name = rule.ID
	}
	recorder.NotesFrom(r.Context()).SetFault(name)
}

// noteScript hands what an Onegini script did to the inspector.
func noteScript(r *http.Request, o *onegini.Outcome) {
	if o.Script == "" {
		return
	}
	if notes := recorder.NotesFrom(r.Context()); notes != nil {
		notes.SetScript(&recorder.ScriptNote{Slot: o.Script, IdP: o.IdP, Status: o.Status, Cost: o.Cost, Error: o.Err})
	}
}

// Recorder returns the inspector's store of exchanges.
func (s *Server) Recorder() *recorder.Recorder { return s.recorder }

// BaseURL is the server's HTTP base URL, for curl commands and HAR files.
func (s *Server) BaseURL() string {
	if u, ok := s.baseURL.Load().(string); ok {
		return u
	}
	return "http://localhost:8080"
}

// Replay sends a recorded request again through the server; the new
// exchange is recorded like any other. It returns the answer's status.
func (s *Server) Replay(id string) (int, error) {
	ex, found, err := s.recorder.Get(id, true)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, fmt.Errorf("%w: no exchange %q", ErrNotFound, id)
	}
	resp, err := s.recorder.Replay(ex, s)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
