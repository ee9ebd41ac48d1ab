package mockserver

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"regsandbox/mockserver/recorder"
)

// requestRoutes mounts the inspector's part of the admin API. The admin
// API never reveals secrets: only the window can, on the user's request.
func (s *Server) requestRoutes(r *mux.Router) {
	r.HandleFunc("/requests", s.adminListRequests).Methods(http.MethodGet)
	r.HandleFunc("/requests", s.adminClearRequests).Methods(http.MethodDelete)
	r.HandleFunc("/requests.har", s.adminHAR).Methods(http.MethodGet)
	r.HandleFunc("/requests/{id}", s.adminGetRequest).Methods(http.MethodGet)
	r.HandleFunc("/requests/{id}/curl", s.adminCurl).Methods(http.MethodGet)
	r.HandleFunc("/requests/{id}/replay", s.adminReplay).Methods(http.MethodPost)
	r.HandleFunc("/flows/{id}", s.adminFlow).Methods(http.MethodGet)
	r.HandleFunc("/events", s.adminEvents).Methods(http.MethodGet)
	r.HandleFunc("/recording", s.adminRecording).Methods(http.MethodGet)
	r.HandleFunc("/recording", s.adminSetRecording).Methods(http.MethodPut)
}

// recordingState is the body of /__admin/recording.
type recordingState struct {
	Paused *bool `json:"paused"`
}

func (s *Server) adminRecording(w http.ResponseWriter, r *http.Request) {
	paused := s.recorder.Paused()
	writeJSON(w, http.StatusOK, recordingState{Paused: &paused})
}

// adminSetRecording pauses or resumes recording: {"paused": true}.
func (s *Server) adminSetRecording(w http.ResponseWriter, r *http.Request) {
	var body recordingState
	if !decodeAdminBody(w, r, &body) {
		return
	}
	if body.Paused == nil {
		adminError(w, http.StatusBadRequest, `give {"paused": true} or {"paused": false}`)
		return
	}
	s.recorder.SetPaused(*body.Paused)
	s.adminRecording(w, r)
}

// requestQuery reads the filters of a listing from the query string:
// endpoint, status, outcome, q (free text), flow, before, limit.
func requestQuery(r *http.Request) recorder.Query {
	v := r.URL.Query()
	status, _ := strconv.Atoi(v.Get("status"))
	limit, _ := strconv.Atoi(v.Get("limit"))
	return recorder.Query{Endpoint: v.Get("endpoint"), Status: status, Outcome: v.Get("outcome"),
		Text: v.Get("q"), FlowID: v.Get("flow"), Before: v.Get("before"), Limit: limit}
}

func (s *Server) adminListRequests(w http.ResponseWriter, r *http.Request) {
	page, err := s.recorder.List(requestQuery(r))
	if err != nil {
		adminFailure(w, err)
		return
	}
	if page.Exchanges == nil {
		page.Exchanges = []recorder.Exchange{}
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) adminClearRequests(w http.ResponseWriter, r *http.Request) {
	if err := s.recorder.Clear(); err != nil {
		adminFailure(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) exchange(w http.ResponseWriter, r *http.Request) (recorder.Exchange, bool) {
	ex, found, err := s.recorder.Get(mux.Vars(r)["id"], false)
	switch {
	case err != nil:
		adminFailure(w, err)
	case !found:
		adminError(w, http.StatusNotFound, "no recorded exchange "+mux.Vars(r)["id"])
	}
	return ex, err == nil && found
}

func (s *Server) adminGetRequest(w http.ResponseWriter, r *http.Request) {
	if ex, ok := s.exchange(w, r); ok {
		writeJSON(w, http.StatusOK, ex)
	}
}

func (s *Server) adminCurl(w http.ResponseWriter, r *http.Request) {
	if ex, ok := s.exchange(w, r); ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(recorder.Curl(ex, s.BaseURL(), false) + "\n"))
	}
}

func (s *Server) adminReplay(w http.ResponseWriter, r *http.Request) {
	status, err := s.Replay(mux.Vars(r)["id"])
	if err != nil {
		adminFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"status": status})
}

func (s *Server) adminFlow(w http.ResponseWriter, r *http.Request) {
	exs, err := s.recorder.Flow(mux.Vars(r)["id"])
	if err != nil {
		adminFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"exchanges": exs})
}

// adminHAR exports the listed exchanges (the same filters as /requests,
// up to the page maximum) as HAR 1.2, secrets masked.
func (s *Server) adminHAR(w http.ResponseWriter, r *http.Request) {
	q := requestQuery(r)
	if q.Limit == 0 {
		q.Limit = recorder.MaxPage
	}
	page, err := s.recorder.List(q)
	if err != nil {
		adminFailure(w, err)
		return
	}
	raw, err := recorder.HAR(s.BaseURL(), page.Exchanges, false)
	if err != nil {
		adminFailure(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="regsandbox.har"`)
	w.Write(raw)
}

// adminEvents streams every new exchange, masked, as server-sent events
// ("event: exchange", data: the exchange JSON), with a comment every 15 s
// to keep proxies from closing the stream.
func (s *Server) adminEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		adminError(w, http.StatusInternalServerError, "streaming is not supported on this connection")
		return
	}
	events, cancel := s.recorder.Subscribe()
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(": regsandbox events\n\n"))
	flusher.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			w.Write([]byte(": ping\n\n"))
		case ex, open := <-events:
			if !open {
				return
			}
			raw, _ := json.Marshal(ex)
			w.Write([]byte("id: " + ex.ID + "\nevent: exchange\ndata: "))
			w.Write(raw)
			w.Write([]byte("\n\n"))
		}
		flusher.Flush()
	}
}
