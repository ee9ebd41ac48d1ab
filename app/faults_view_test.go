package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

func TestGalleryFailsTheNextRequest(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newFaultsView(w, srv)
	i := -1
	for n, e := range v.gallery.entries {
		if e.ID == "onegini.idp_disabled" {
			i = n
		}
	}
	v.gallery.list.Select(i)
	if !strings.Contains(v.gallery.body.Text, `"error": "idp_disabled"`) {
		t.Fatalf("gallery shows %s", v.gallery.body.Text)
	}
	v.gallery.endpoint.SetSelected("onegini.backchannel")
	test.Tap(v.gallery.failNext)
	if len(v.rules) != 1 || !strings.Contains(ruleLine(v.rules[0]), "(1 left)") {
		t.Fatalf("rules = %v", v.rules)
	}
	call := func() int {
		req := httptest.NewRequest(http.MethodPost, "/oauth/api/v3/custom-registration/ExampleId/backchannel", strings.NewReader(`{}`))
		req.SetBasicAuth("example-api-client", "example-api-secret")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code
	}
	if first, second := call(), call(); first != http.StatusForbidden || second != http.StatusOK {
		t.Errorf("calls answered %d then %d", first, second)
	}
	v.reload()
	if !strings.Contains(ruleLine(v.rules[0]), "used up") {
		t.Errorf("rule line = %q", ruleLine(v.rules[0]))
	}
}

func TestLocalizedGalleryBody(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newFaultsView(w, srv)
	for n, e := range v.gallery.entries {
		if e.ID == "capture.invalid_form_fields" {
			v.gallery.list.Select(n)
		}
	}
	v.gallery.locale.SetSelected("fr-FR")
	if !strings.Contains(v.gallery.body.Text, "Ce pseudonyme est déjà pris.") {
		t.Errorf("fr-FR body = %s", v.gallery.body.Text)
	}
}

func TestRuleEditorPreviewsAndRefusesBadConditions(t *testing.T) {
	test.NewTempApp(t)
	srv, _ := newTestServer(t)
	w := test.NewTempWindow(t, nil)
	v := newFaultsView(w, srv)
	test.Tap(v.newButton)
	if !strings.Contains(v.preview.Text, `"unexpected_error"`) {
		t.Errorf("preview = %s", v.preview.Text)
	}
	v.draft.When = "request.form.emailAddress =="
	test.Tap(v.saveButton)
	if !strings.HasPrefix(v.status.Text, "Not saved") || len(srv.Faults()) != 0 {
		t.Errorf("status %q, %d rules", v.status.Text, len(srv.Faults()))
	}
	v.draft.When = `request.form.emailAddress == "x@example.com"`
	test.Tap(v.saveButton)
	if len(srv.Faults()) != 1 {
		t.Errorf("status %q", v.status.Text)
	}
}
