package mockserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"regsandbox/mockserver/workspace"
)

func addFault(t *testing.T, admin, rule string) map[string]any {
	t.Helper()
	resp := must(http.Post(admin+"/faults", "application/json", strings.NewReader(rule)))
	body := decode(t, resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("adding %s: %d %v", rule, resp.StatusCode, body)
	}
	if body["id"] == "" || body["id"] == nil {
		t.Fatalf("stored rule has no id: %v", body)
	}
	return body
}

func backchannel(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth/api/v3/custom-registration/ExampleId/backchannel",
		strings.NewReader(`{"data":"{}"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("example-api-client", "example-api-secret")
	resp := must(http.DefaultClient.Do(req))
	return resp.StatusCode, decode(t, resp)
}

func TestFaultFailsExactlyTheNextCall(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	base := "http://" + l.HTTPAddr
	addFault(t, base+"/__admin", `{"name":"next backchannel fails","endpoint":"onegini.backchannel","error":"onegini.internal_server_error","times":1,"enabled":true}`)
	status, body := backchannel(t, base)
	if status != http.StatusInternalServerError || body["error"] != "internal_server_error" {
		t.Errorf("first call: %d %v", status, body)
	}
	for range 3 {
		if status, body := backchannel(t, base); status != http.StatusOK || body["status"] != float64(2000) {
			t.Errorf("later call: %d %v", status, body)
		}
	}
	list := decode(t, must(http.Get(base+"/__admin/faults")))["faults"].([]any)
	if rem := list[0].(map[string]any)["remaining"]; rem != float64(0) {
		t.Errorf("remaining after firing = %v", rem)
	}
}

func TestLatencyFault(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	base := "http://" + l.HTTPAddr
	addFault(t, base+"/__admin", `{"endpoint":"onegini.backchannel","delay_ms":400,"enabled":true}`)
	start := time.Now()
	status, _ := backchannel(t, base)
	if took := time.Since(start); took < 400*time.Millisecond || status != http.StatusOK {
		t.Errorf("answered %d after %s, want 200 after at least 400ms", status, took)
	}
}

func TestDropFault(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	base := "http://" + l.HTTPAddr
	addFault(t, base+"/__admin", `{"endpoint":"capture.register_native_traditional","drop":true,"enabled":true}`)
	resp, err := http.PostForm(base+"/oauth/register_native_traditional", seedForm())
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%d) from a dropped connection", resp.StatusCode)
	}
}

func TestConditionOnFormField(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	base := "http://" + l.HTTPAddr
	addFault(t, base+"/__admin", `{"endpoint":"capture.register_native_traditional","when":"request.form.emailAddress == 'fail@example.com'","error":"capture.unexpected_error","enabled":true}`)
	fail := seedForm()
	fail.Set("emailAddress", "fail@example.com")
	body := decode(t, must(http.PostForm(base+"/oauth/register_native_traditional", fail)))
	if body["error"] != "unexpected_error" {
		t.Errorf("matching request: %v", body)
	}
	ok := seedForm()
	body = decode(t, must(http.PostForm(base+"/oauth/register_native_traditional", ok)))
	if body["stat"] != "ok" {
		t.Errorf("other request: %v", body)
	}
}

func TestInvalidConditionIsRefused(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	resp := must(http.Post("http://"+l.HTTPAddr+"/__admin/faults", "application/json",
		strings.NewReader(`{"endpoint":"*","when":"request.form.emailAddress ==","status":500,"enabled":true}`)))
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), "1:") {
		t.Errorf("%d %s", resp.StatusCode, raw)
	}
}

func TestErrorCatalogueAndPreview(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	admin := "http://" + l.HTTPAddr + "/__admin"
	var cat struct {
		Errors []struct {
			ID     string          `json:"id"`
			Status int             `json:"status"`
			Body   json.RawMessage `json:"body"`
		} `json:"errors"`
	}
	resp := must(http.Get(admin + "/errors"))
	json.NewDecoder(resp.Body).Decode(&cat)
	resp.Body.Close()
	ids := map[string]bool{}
	for _, e := range cat.Errors {
		ids[e.ID] = true
	}
	for _, want := range []string{"capture.invalid_form_fields", "capture.record_not_found", "onegini.idp_disabled", "onegini.invalid_client"} {
		if !ids[want] {
			t.Errorf("catalogue lacks %s", want)
		}
	}
	preview := decode(t, must(http.Post(admin+"/faults/preview", "application/json",
		strings.NewReader(`{"rule":{"endpoint":"onegini.backchannel","error":"onegini.idp_disabled","enabled":true}}`))))
	if preview["status"] != float64(403) || !strings.Contains(preview["body"].(string), `"idp_disabled"`) {
		t.Errorf("preview = %v", preview)
	}
}

func faultNextEntity() workspace.Fault {
	return workspace.Fault{Endpoint: "capture.entity", Error: "capture.api_limit_error", Enabled: true}
}
