package onegini_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"regsandbox/mockserver/onegini"
	"regsandbox/mockserver/script"
	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// newBackend starts a second back end on db with the default workspace.
func newBackend(t testing.TB, db *storage.DB) *onegini.Backend {
	t.Helper()
	ws := defaultWorkspace(t)
	b, err := onegini.New(db, func() *workspace.Workspace { return ws }, script.NewEngine())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if err := e.backend.CheckScript(`{"status": 2000}`); err != nil {
		t.Errorf("valid script refused: %v", err)
	}
	err := e.backend.CheckScript("{\n  \"status\": 2000,\n  \"responsePayload\": )\n}")
	var ce *script.CompileError
	if !errors.As(err, &ce) || len(ce.Issues) == 0 {
		t.Fatalf("CheckScript = %v, want a *script.CompileError", err)
	}
	equal(t, "line", ce.Issues[0].Line, 3)
	equal(t, "column", ce.Issues[0].Column, 22)
}

func TestValidateScripts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if err := e.backend.ValidateScripts(defaultWorkspace(t)); err != nil {
		t.Fatalf("the default workspace's scripts are refused: %v", err)
	}
	ws := defaultWorkspace(t)
	idp, _ := ws.Onegini.IdP("QrCodeIdp")
	idp.Scripts.Complete = "{\n  \"status\": 2000 +\n}"
	ws.Onegini.IdPs[0].Scripts.Init = `"just a string"`
	err := e.backend.ValidateScripts(ws)
	var se *onegini.ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("ValidateScripts = %v, want a *onegini.ScriptError", err)
	}
	msg := err.Error()
	for _, want := range []string{"IdP ExampleId, init script: 1:1:", "IdP QrCodeIdp, complete script: 3:1:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
}

func TestRunScriptIsReadOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	code := e.qrCode("u-run")
	idp, _ := e.ws.Onegini.IdP("QrCodeIdp")
	res, err := e.backend.RunScript(context.Background(), idp.Scripts.Complete,
		onegini.RunInput{RequestPayload: code, IdP: "QrCodeIdp"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 2000 || res.User == nil || res.User.ID != "u-run" || len(res.CacheDelete) != 1 {
		t.Fatalf("RunScript = %+v, want the user of the live cache", res)
	}
	if entries, _ := e.backend.CacheEntries("QrCodeIdp"); len(entries) != 1 {
		t.Errorf("RunScript changed the cache: %+v", entries)
	}
	if _, err := e.backend.RunScript(context.Background(), "{", onegini.RunInput{}); err == nil {
		t.Error("RunScript accepted a script that does not compile")
	}
}

func TestClearCacheAndReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.qrCode("u-1")
	keyID := e.backend.KeyID()
	if err := e.backend.ClearCache("QrCodeIdp"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := e.backend.CacheEntries("QrCodeIdp"); len(entries) != 0 {
		t.Errorf("ClearCache left %+v", entries)
	}
	code := e.qrCode("u-2")
	id := e.init("ExampleId", "").body["transaction_id"].(string)
	if err := e.backend.Reset(); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.complete("QrCodeIdp", `{"data":`+jsonString(code)+`}`), 5000)
	wantError(t, e.complete("ExampleId", `{"transaction_id":"`+id+`"}`), 400, "invalid_request", "The transaction_id is unknown or expired.")
	equal(t, "key id after Reset", newBackend(t, e.db).KeyID(), keyID)
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	want := map[string]int{
		"onegini.invalid_client": 400, "onegini.insufficient_permissions": 403, "onegini.idp_disabled": 403,
		"onegini.invalid_idp_identifier": 404, "onegini.internal_server_error": 500,
		"onegini.invalid_scope": 400, "onegini.invalid_profile": 400, "onegini.invalid_request": 400,
	}
	entries := onegini.Catalogue()
	equal(t, "entries", len(entries), len(want))
	for _, c := range entries {
		equal(t, c.ID+" status", c.Status, want[c.ID])
		equal(t, c.ID+" backend", c.Backend, "onegini")
		var body map[string]string
		if err := json.Unmarshal(c.Body, &body); err != nil || body["error"] != c.Code ||
			"onegini."+c.Code != c.ID || body["error_description"] == "" || c.Description == "" {
			t.Errorf("entry %+v: body %s (%v)", c, c.Body, err)
		}
	}
}

// TestWriteErrorMatchesCatalogue: fault injection writes catalogue entries
// with WriteError; the answer must equal what the back end sends itself.
func TestWriteErrorMatchesCatalogue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	live := e.backchannel("DisabledIdp", "")
	var entry onegini.CatalogueEntry
	for _, c := range onegini.Catalogue() {
		if c.ID == "onegini.idp_disabled" {
			entry = c
		}
	}
	equal(t, "catalogue body", string(entry.Body), live.raw)
	var body map[string]string
	json.Unmarshal(entry.Body, &body)
	rec := httptest.NewRecorder()
	onegini.WriteError(rec, entry.Status, body["error"], body["error_description"])
	equal(t, "written body", rec.Body.String(), live.raw)
	wantHeaders(t, rec.Header())
}

// BenchmarkBackchannelSeed measures the seed request through the handler.
func BenchmarkBackchannelSeed(b *testing.B) {
	db, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	backend := newBackend(b, db)
	r := mux.NewRouter()
	backend.Routes(r)
	req := httptest.NewRequest(http.MethodPost, backchannelPath("ExampleId"), nil)
	req.SetBasicAuth(apiID, apiSecret)
	req.Header.Set("Content-Type", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		req.Body = bodyOf(seedBody)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Body.String() != seedResponse {
			b.Fatalf("answer %d %s", rec.Code, rec.Body)
		}
	}
}

func bodyOf(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
