package app

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func register(srv http.Handler, email string) {
	form := url.Values{"client_id": {"12345abcde12345abcde12345abcde12"}, "flow": {"standard"},
		"flow_version": {"20190618143040022299"}, "locale": {"en-US"}, "redirect_uri": {"http://localhost"},
		"form": {"registrationForm"}, "emailAddress": {email}, "newPassword": {"password123"},
		"newPasswordConfirm": {"password123"}, "firstName": {"J"}, "lastName": {"D"},
		"displayName": {strings.Split(email, "@")[0]}}
	req := httptest.NewRequest(http.MethodPost, "/oauth/register_native_traditional", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "127.0.0.1:5000"
	srv.ServeHTTP(httptest.NewRecorder(), req)
}

func TestRequestsViewListsFiltersAndShows(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	register(srv, "ada@example.com")
	register(srv, "ada@example.com") // the second answers 390
	w := test.NewTempWindow(t, nil)
	v := newRequestsView(w, srv)
	if len(v.rows) != 2 || !strings.Contains(v.count.Text, "2 stored") {
		t.Fatalf("rows = %d, count %q", len(v.rows), v.count.Text)
	}
	if !strings.Contains(rowText(v.rows[0]), "capture.register_native_traditional  200 ⚠ error") {
		t.Errorf("newest row = %q", rowText(v.rows[0]))
	}
	v.outcome.SetSelected("ok")
	if len(v.rows) != 1 {
		t.Errorf("ok filter rows = %d", len(v.rows))
	}
	v.outcome.SetSelected(allChoice)
	test.Type(v.search, "nobody-matches-this")
	if len(v.rows) != 0 {
		t.Errorf("search rows = %d", len(v.rows))
	}
	v.search.SetText("")

	v.list.Select(1)
	if !strings.Contains(v.requestText.Text, "emailAddress = ada@example.com") {
		t.Errorf("request pane = %s", v.requestText.Text)
	}
	if strings.Contains(v.requestText.Text, "password123") {
		t.Error("the password shows in the request pane")
	}
	if !strings.Contains(v.answerText.Text, `"stat": "ok"`) {
		t.Errorf("answer pane = %s", v.answerText.Text)
	}
	if len(v.journey) != 2 {
		t.Errorf("journey of ada@example.com has %d steps, want 2", len(v.journey))
	}
	test.Tap(v.replayButton)
	if !strings.HasPrefix(v.status.Text, "Replayed") || len(v.rows) != 3 {
		t.Errorf("after replay: %q, %d rows", v.status.Text, len(v.rows))
	}
	test.Tap(v.curlButton)
	if clip := fyne.CurrentApp().Clipboard().Content(); !strings.HasPrefix(clip, "curl ") || strings.Contains(clip, "password123") {
		t.Errorf("clipboard = %q", clip)
	}
}

func TestRequestsViewRevealsSecretsOnRequest(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	req := httptest.NewRequest(http.MethodPost, "/oauth/api/v3/custom-registration/ExampleId/backchannel", strings.NewReader(`{"data":"x"}`))
	req.SetBasicAuth("example-api-client", "example-api-secret")
	srv.ServeHTTP(httptest.NewRecorder(), req)
	w := test.NewTempWindow(t, nil)
	v := newRequestsView(w, srv)
	v.list.Select(0)
	if strings.Contains(v.requestText.Text, "ZXhhbXBsZS1hcGktY2xpZW50") || !strings.Contains(v.requestText.Text, "Basic ***") {
		t.Errorf("masked request = %s", v.requestText.Text)
	}
	test.Tap(v.reveal)
	if !strings.Contains(v.requestText.Text, "Basic ZXhhbXBsZS1hcGktY2xpZW50") {
		t.Errorf("revealed request = %s", v.requestText.Text)
	}
	raw, err := v.harOfListed()
	if err != nil || !strings.Contains(string(raw), `"version": "1.2"`) && !strings.Contains(string(raw), `"version":"1.2"`) {
		t.Errorf("HAR: %v %.200s", err, raw)
	}
}

func TestCoalesceBoundsRedraws(t *testing.T) {
	events := make(chan int)
	redraws := make(chan struct{}, 100)
	go coalesce(events, liveRefresh/10, func() { redraws <- struct{}{} })
	for i := range 50 {
		events <- i
	}
	close(events)
	if n := len(redraws); n > 10 {
		t.Errorf("%d redraws for one burst", n)
	}
}

// Pause recording answers calls without recording them; the button says
// what it will do, and follows a pause made through the admin API.
func TestRequestsViewPausesRecording(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newRequestsView(w, srv)
	if v.pauseButton.Text != "Pause recording" {
		t.Fatalf("button = %q", v.pauseButton.Text)
	}
	test.Tap(v.pauseButton)
	register(srv, "quiet@example.com")
	v.reload()
	if len(v.rows) != 0 || v.pauseButton.Text != "Resume recording" || !strings.Contains(v.status.Text, "paused") {
		t.Errorf("paused: %d rows, button %q, status %q", len(v.rows), v.pauseButton.Text, v.status.Text)
	}
	test.Tap(v.pauseButton)
	register(srv, "loud@example.com")
	v.reload()
	if len(v.rows) != 1 || v.pauseButton.Text != "Pause recording" {
		t.Errorf("resumed: %d rows, button %q", len(v.rows), v.pauseButton.Text)
	}
	srv.Recorder().SetPaused(true) // as PUT /__admin/recording does
	v.syncPause()
	if v.pauseButton.Text != "Resume recording" {
		t.Errorf("after a pause elsewhere, button = %q", v.pauseButton.Text)
	}
}
