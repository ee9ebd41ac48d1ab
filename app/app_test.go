package app

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"regsandbox/mockserver"
	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// newTestServer is a server on an in-memory database; nothing listens:
// the views only use the Go API.
func newTestServer(t *testing.T) (*mockserver.Server, *mockserver.Listening) {
	t.Helper()
	return newTestServerOn(t, storage.Options{InMemory: true})
}

// newTestServerOn is newTestServer on the database opts describe.
func newTestServerOn(t *testing.T, opts storage.Options) (*mockserver.Server, *mockserver.Listening) {
	t.Helper()
	db, err := storage.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mockserver.New(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		db.Close()
	})
	return srv, &mockserver.Listening{HTTPAddr: "127.0.0.1:8080", HTTPSAddr: "127.0.0.1:8443"}
}

func TestWindowHasEveryView(t *testing.T) {
	a := test.NewTempApp(t)
	srv, l := newTestServer(t)
	w := New(a, srv, l)
	var names []string
	for _, item := range w.tabs.Items {
		names = append(names, item.Text)
	}
	for _, want := range []string{"Server", "Requests", "Capture", "Onegini", "Faults & errors", "Scenarios"} {
		if !strings.Contains(strings.Join(names, ","), want) {
			t.Errorf("tabs %v lack %s", names, want)
		}
	}
	w.tabs.SelectIndex(1)
	if got := a.Preferences().Int(prefLastTab); got != 1 {
		t.Errorf("last tab preference = %d, want 1", got)
	}
}

func TestServerViewShowsDeviceURLs(t *testing.T) {
	a := test.NewTempApp(t)
	srv, l := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newServerView(a, w, srv, l)
	var urls []string
	for _, row := range v.urls {
		urls = append(urls, row.url)
	}
	for _, want := range []string{"http://localhost:8080", "http://10.0.2.2:8080", "https://10.0.2.2:8443", "http://127.0.0.1:8080/__admin"} {
		if !strings.Contains(strings.Join(urls, " "), want) {
			t.Errorf("urls %v lack %s", urls, want)
		}
	}
	if v.qrImage.Image == nil {
		t.Error("no QR code drawn")
	}
	if !strings.Contains(v.certInfo.Text, "10.0.2.2") || !strings.Contains(v.certInfo.Text, "Valid until") {
		t.Errorf("certificate info = %q", v.certInfo.Text)
	}
}

func TestBaseURLsOfferTheLANWhenListeningOnIt(t *testing.T) {
	rows := baseURLs(&mockserver.Listening{HTTPAddr: "[::]:8080"}, "192.168.1.7")
	found := false
	for _, r := range rows {
		found = found || r.url == "http://192.168.1.7:8080"
	}
	if !found {
		t.Errorf("rows %v lack the LAN URL", rows)
	}
	for _, r := range baseURLs(&mockserver.Listening{HTTPAddr: "127.0.0.1:8080"}, "192.168.1.7") {
		if strings.Contains(r.url, "192.168") {
			t.Errorf("a loopback-only server offers %s", r.url)
		}
	}
}

// TestEditingAValidationMessage: typing a new message and saving changes
// what the back end answers.
func TestEditingAValidationMessage(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newCaptureView(w, srv)
	v.fields.list.Select(indexOf(v.fields.names, "emailAddress"))
	entry := findEntry(v.fields.editor, "Email address is required.")
	if entry == nil {
		t.Fatal("no entry shows the required message")
	}
	entry.SetText("")
	test.Type(entry, "We need your e-mail.")
	test.Tap(v.fields.saveBtn)
	if !strings.HasPrefix(v.fields.status.Text, "Saved emailAddress") {
		t.Fatalf("status = %q", v.fields.status.Text)
	}
	f, _ := srv.Workspace().Capture.Flow("standard")
	field, _ := f.Field("emailAddress")
	if got := field.Validations[0].Messages["en-US"]; got != "We need your e-mail." {
		t.Errorf("stored message = %q", got)
	}
}

// TestRefusedSaveKeepsWhatWasTyped: an invalid rule value is refused and
// the editor still shows it.
func TestRefusedSaveKeepsWhatWasTyped(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newCaptureView(w, srv)
	v.fields.list.Select(indexOf(v.fields.names, "newPassword"))
	entry := findEntry(v.fields.editor, "8")
	if entry == nil {
		t.Fatal("no entry shows the minLength value")
	}
	entry.SetText("eight")
	test.Tap(v.fields.saveBtn)
	if !strings.Contains(v.fields.status.Text, "Not saved") || !strings.Contains(v.fields.status.Text, "minLength") {
		t.Errorf("status = %q", v.fields.status.Text)
	}
	if findEntry(v.fields.editor, "eight") == nil {
		t.Error("the editor lost what was typed")
	}
	f, _ := srv.Workspace().Capture.Flow("standard")
	field, _ := f.Field("newPassword")
	if field.Validations[1].Value != "8" {
		t.Error("a refused save changed the workspace")
	}
}

func TestFormsPanelSavesChosenFields(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newCaptureView(w, srv)
	v.forms.formSelect.SetSelected("socialRegistrationForm")
	v.forms.fields.SetSelected([]string{"emailAddress", "displayName"})
	test.Tap(v.forms.saveButton)
	f, _ := srv.Workspace().Capture.Flow("standard")
	form, _ := f.Form("socialRegistrationForm")
	if strings.Join(form.Fields, ",") != "emailAddress,displayName" {
		t.Errorf("form fields = %v (%s)", form.Fields, v.forms.status.Text)
	}
}

func TestMintSocialToken(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newSocialPanel(w, srv)
	test.Tap(v.mintButton)
	if len(v.token.Text) != 40 {
		t.Errorf("token = %q, status %q", v.token.Text, v.status.Text)
	}
}

func TestUsersPanelListsAndDeletes(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newUsersPanel(w, srv)
	if v.summary.Text != "0 registered" {
		t.Errorf("summary = %q", v.summary.Text)
	}
	token, _ := srv.Capture().MintSocialToken(workspace.SocialToken{Provider: "google", Identifier: "x",
		Email: "x@example.com", DisplayName: "Ex"})
	form := url.Values{"client_id": {"12345abcde12345abcde12345abcde12"}, "flow": {"standard"},
		"flow_version": {"20190618143040022299"}, "locale": {"en-US"}, "redirect_uri": {"http://localhost"},
		"token": {token}, "thin_registration": {"true"}}
	req := httptest.NewRequest(http.MethodPost, "/oauth/auth_native", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	srv.ServeHTTP(httptest.NewRecorder(), req)
	v.refresh()
	if v.summary.Text != "1 registered" || !strings.Contains(userLine(v.users[0]), "x@example.com — Ex (google)") {
		t.Fatalf("summary = %q", v.summary.Text)
	}
	v.list.Select(0)
	if !strings.Contains(v.detail.Text, `"email": "x@example.com"`) {
		t.Errorf("detail = %s", v.detail.Text)
	}
	v.delete(v.users[0].UUID)
	if v.summary.Text != "0 registered" {
		t.Errorf("after delete: %q", v.summary.Text)
	}
}

func TestScenarioStartsFromCleanState(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newScenariosView(w, srv)
	i := -1
	for n, p := range v.presets {
		if p.ID == "idp-disabled" {
			i = n
		}
	}
	if i < 0 {
		t.Fatal("no idp-disabled preset")
	}
	v.presetList.Select(i)
	test.Tap(v.startButton)
	idp, _ := srv.Workspace().Onegini.IdP("ExampleId")
	if idp.Enabled {
		t.Errorf("ExampleId still enabled; status %q", v.status.Text)
	}
	if !strings.Contains(v.current.Text, "IdP disabled") {
		t.Errorf("current = %q", v.current.Text)
	}
	v.reset()
	if srv.Workspace().Name != "Default" {
		t.Errorf("after reset the workspace is %q", srv.Workspace().Name)
	}
}

func TestRefusedImportChangesNothing(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newScenariosView(w, srv)
	before := srv.Workspace()
	v.importDone("broken.json", srv.ImportWorkspace([]byte(`{"capture":`)))
	if srv.Workspace() != before || !strings.HasPrefix(v.status.Text, "Nothing changed: broken.json") {
		t.Errorf("status %q", v.status.Text)
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// findEntry walks a widget tree for an entry showing text.
func findEntry(o fyne.CanvasObject, text string) *widget.Entry {
	switch x := o.(type) {
	case *widget.Entry:
		if x.Text == text {
			return x
		}
	case *fyne.Container:
		for _, c := range x.Objects {
			if e := findEntry(c, text); e != nil {
				return e
			}
		}
	case *widget.Form:
		for _, item := range x.Items {
			if e := findEntry(item.Widget, text); e != nil {
				return e
			}
		}
	case *widget.Card:
		return findEntry(x.Content, text)
	}
	return nil
}

// TestScriptEditorChecksOnType: a syntax error shows its position as the
// user types, a valid script shows it compiles, and saving activates it.
func TestScriptEditorChecksOnType(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newOneginiView(w, srv)
	v.idpList.Select(indexOf(v.ids, "ExampleId"))
	v.slot.SetSelected("backchannel")
	if !strings.Contains(v.editor.Text, "custom_response_key") {
		t.Fatalf("editor shows %q", v.editor.Text)
	}
	v.editor.SetText("{\"status\": 2000,\n  \"responsePayload\": }")
	if !strings.Contains(v.check.Text, "Line 2, column") {
		t.Errorf("check = %q", v.check.Text)
	}
	test.Tap(v.saveButton)
	if !strings.HasPrefix(v.status.Text, "Not saved") {
		t.Errorf("a broken script was saved: %q", v.status.Text)
	}
	v.editor.SetText(`{"status": 2001, "responsePayload": "hi"}`)
	if v.check.Text != "✓ The script compiles." {
		t.Errorf("check = %q", v.check.Text)
	}
	test.Tap(v.saveButton)
	idp, _ := srv.Workspace().Onegini.IdP("ExampleId")
	if idp.Scripts.Backchannel != `{"status": 2001, "responsePayload": "hi"}` {
		t.Errorf("saved script = %q (%s)", idp.Scripts.Backchannel, v.status.Text)
	}
}

func TestScriptTestRun(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newOneginiView(w, srv)
	v.idpList.Select(indexOf(v.ids, "QrCodeIdp"))
	v.slot.SetSelected("backchannel")
	v.samplePayload.SetText(`{"userId": "u-42"}`)
	test.Tap(v.runButton)
	if !strings.Contains(v.result.Text, `"status": 2000`) || !strings.Contains(v.result.Text, `"u-42"`) {
		t.Errorf("result = %s", v.result.Text)
	}
	if entries, _ := srv.Onegini().CacheEntries("QrCodeIdp"); len(entries) != 0 {
		t.Error("a test run wrote to the cache")
	}
}

func TestOneginiClientScopes(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	v := newOneginiClientsPanel(srv)
	v.list.Select(indexOf(v.ids, "no-scope-client"))
	v.scopes.SetText("user_registration")
	test.Tap(v.saveButton)
	c, _ := srv.Workspace().Onegini.APIClient("no-scope-client")
	if !c.HasScope(workspace.ScopeUserRegistration) {
		t.Errorf("scopes = %v (%s)", c.Scopes, v.status.Text)
	}
}

func TestShortcutFocusesTheSearch(t *testing.T) {
	a := test.NewTempApp(t)
	srv, l := newTestServer(t)
	w := New(a, srv, l)
	w.searchRequests()
	if w.tabs.Selected().Text != "Requests" || w.win.Canvas().Focused() != w.requests.search {
		t.Errorf("tab %q, focused %v", w.tabs.Selected().Text, w.win.Canvas().Focused())
	}
}

func TestServerViewStopsAndStarts(t *testing.T) {
	a := test.NewTempApp(t)
	srv, _ := newTestServer(t)
	l, err := srv.Listen("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Shutdown(t.Context()) })
	v := newServerView(a, test.NewTempWindow(t, nil), srv, l)
	v.background = func(fn func()) { fn() }
	if !strings.HasPrefix(v.status.Text, "Serving") || v.toggle.Text != "Stop" {
		t.Fatalf("status %q, button %q", v.status.Text, v.toggle.Text)
	}
	test.Tap(v.toggle)
	if v.toggle.Text != "Start" || !strings.HasPrefix(v.status.Text, "Stopped") {
		t.Fatalf("after Stop: %q, %q", v.toggle.Text, v.status.Text)
	}
	if _, err := http.Get("http://" + l.HTTPAddr + "/__admin/health"); err == nil {
		t.Error("still answering after Stop")
	}
	test.Tap(v.toggle)
	if v.toggle.Text != "Stop" {
		t.Fatalf("after Start: %q", v.toggle.Text)
	}
	resp, err := http.Get("http://" + l.HTTPAddr + "/__admin/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestFlowPanelAddsAVersion(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	v := newCaptureView(test.NewTempWindow(t, nil), srv)
	v.flowPanel.versions.SetText(v.flowPanel.versions.Text + "\n2026-release")
	test.Tap(v.flowPanel.saveButton)
	f, _ := srv.Workspace().Capture.Flow("standard")
	if !f.HasVersion("2026-release") || !f.HasVersion("20190618143040022299") {
		t.Errorf("versions = %v (%s)", f.Versions, v.flowPanel.status.Text)
	}
	v.flowPanel.locales.SetText("")
	test.Tap(v.flowPanel.saveButton)
	if !strings.HasPrefix(v.flowPanel.status.Text, "Not saved") {
		t.Errorf("a flow without locales was saved: %q", v.flowPanel.status.Text)
	}
}

func TestDeleteIdP(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	v := newOneginiView(test.NewTempWindow(t, nil), srv)
	v.idpList.Select(indexOf(v.ids, "DisabledIdp"))
	test.Tap(v.deleteButton)
	if _, ok := srv.Workspace().Onegini.IdP("DisabledIdp"); ok || indexOf(v.ids, "DisabledIdp") >= 0 {
		t.Errorf("DisabledIdp still there: %q", v.status.Text)
	}
}

// A full disk shows, above every tab, why nothing can be saved; the
// banner goes once there is room again.
func TestStorageBannerFollowsTheDisk(t *testing.T) {
	a := test.NewTempApp(t)
	var free atomic.Uint64
	free.Store(1 << 40)
	srv, l := newTestServerOn(t, storage.Options{Dir: t.TempDir(),
		FreeSpace: func(string) (uint64, error) { return free.Load(), nil }})
	w := New(a, srv, l)
	t.Cleanup(w.win.Close)
	if w.storageBanner.Visible() {
		t.Fatalf("banner shown with room on the disk: %q", w.storageBanner.Text)
	}
	free.Store(1 << 20)
	waitFor(t, func() bool { return srv.StorageProblem() != nil })
	w.showStorageProblem(w.srv.StorageProblem())
	if !w.storageBanner.Visible() || !strings.Contains(w.storageBanner.Text, "free some space") {
		t.Errorf("banner on a full disk: visible %v, %q", w.storageBanner.Visible(), w.storageBanner.Text)
	}
	// Laid out at once, not at the next resize: the tabs move down.
	if y, h := w.tabs.Position().Y, w.storageBanner.Size().Height; y == 0 || y < h {
		t.Errorf("tabs at y=%v under a banner %v high", y, h)
	}
	free.Store(1 << 40)
	waitFor(t, func() bool { return srv.StorageProblem() == nil })
	w.showStorageProblem(w.srv.StorageProblem())
	if w.storageBanner.Visible() || w.tabs.Position().Y != 0 {
		t.Errorf("banner still shown once there is room: %q, tabs at y=%v", w.storageBanner.Text, w.tabs.Position().Y)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
