package mockserver_test

import (
	"net/http"
	"strings"
	"testing"
)

// PUT /__admin/recording pauses and resumes the inspector; calls made
// while paused are answered and not recorded.
func TestAdminPausesAndResumesRecording(t *testing.T) {
	t.Parallel()
	srv, l := newServer(t)
	base := "http://" + l.HTTPAddr
	set := func(body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPut, base+"/__admin/recording", strings.NewReader(body))
		resp := must(http.DefaultClient.Do(req))
		return resp.StatusCode, decode(t, resp)
	}
	flow := func() {
		resp := must(http.Get(base + "/widget_data/flows/example-app/standard/20190618143040022299/en-US.json"))
		resp.Body.Close()
	}
	flow()
	if status, body := set(`{"paused":true}`); status != http.StatusOK || body["paused"] != true {
		t.Fatalf("pause: %d %v", status, body)
	}
	flow()
	if got := decode(t, must(http.Get(base+"/__admin/recording"))); got["paused"] != true {
		t.Errorf("GET while paused = %v", got)
	}
	if n := srv.Recorder().Count(); n != 1 {
		t.Errorf("%d exchanges recorded with recording paused after one, want 1", n)
	}
	for _, bad := range []string{`{}`, `{"paused":"yes"}`, `not json`, `{"paused":true,"x":1}`} {
		if status, body := set(bad); status != http.StatusBadRequest {
			t.Errorf("PUT %s = %d %v, want 400", bad, status, body)
		}
	}
	if status, body := set(`{"paused":false}`); status != http.StatusOK || body["paused"] != false {
		t.Fatalf("resume: %d %v", status, body)
	}
	flow()
	if n := srv.Recorder().Count(); n != 2 {
		t.Errorf("%d exchanges recorded after resuming, want 2", n)
	}
}
