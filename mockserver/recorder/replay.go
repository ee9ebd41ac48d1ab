package recorder

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
)

// ReplayHeader marks a replayed request with the ID of the exchange it
// repeats, so the inspector can tell the two apart.
const ReplayHeader = "X-Regsandbox-Replay-Of"

// ErrTruncated reports an exchange whose request body was cut when it was
// recorded, so it cannot be sent again as it was.
var ErrTruncated = errors.New("the request body was cut when recorded; it cannot be replayed")

// Replay sends the request of ex again through h and returns the answer.
// It uses the stored request, with every secret as it was sent, when the
// exchange is still stored, and ex as given otherwise. Passwords were
// masked for good before storing, so a replayed registration sends [Mask]
// as its password (which may then fail validation). Pass the recorder's
// own Wrap of the server as h to have the replay recorded. The request is
// served in process: a fault that drops the connection cannot hijack it
// and the answer is what the handler wrote.
func (r *Recorder) Replay(ex Exchange, h http.Handler) (*http.Response, error) {
	if stored, found, err := r.Get(ex.ID, true); err != nil {
		return nil, err
	} else if found {
		ex = stored
	}
	if ex.RequestTruncated {
		return nil, ErrTruncated
	}
	host := ex.Host
	if host == "" {
		host = "localhost"
	}
	req, err := http.NewRequest(ex.Method, "http://"+host+ex.URL, strings.NewReader(ex.RequestBody))
	if err != nil {
		return nil, err
	}
	req.Header = http.Header(ex.RequestHeaders).Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Del("Content-Length")
	req.Header.Set(ReplayHeader, ex.ID)
	req.RemoteAddr, req.RequestURI = ex.RemoteAddr, ex.URL
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result(), nil
}
