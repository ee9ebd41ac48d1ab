package mockserver_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSeedBackchannelThroughTheServer sends the seed's example, verbatim
// with its comment, to the running server.
func TestSeedBackchannelThroughTheServer(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	body := "{\n   \"data\": \"{\\\"custom_key\\\":\\\"custom_data\\\"}\" //optional\n}"
	req, _ := http.NewRequest(http.MethodPost, "http://"+l.HTTPAddr+"/oauth/api/v3/custom-registration/ExampleId/backchannel", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("example-api-client", "example-api-secret")
	resp := must(http.DefaultClient.Do(req))
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(raw) != `{"status":2000,"data":"{\"custom_response_key\":\"custom_response_data\"}"}` {
		t.Errorf("%d %s", resp.StatusCode, raw)
	}
	for name, want := range map[string]string{"Content-Type": "application/json;charset=UTF-8", "Cache-Control": "no-store", "Pragma": "no-cache"} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestAdminScripts(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	base := "http://" + l.HTTPAddr + "/__admin/scripts/"
	tests := []struct {
		name, path, body string
		status           int
		contains         string
	}{
		{"valid script", "check", `{"source":"{\"status\": 2000}"}`, http.StatusOK, `"ok":true`},
		{"syntax error with position", "check", `{"source":"{\"status\": 2000\n  \"x\"}"}`, http.StatusBadRequest, `"line":2`},
		{"run on a sample request", "run", `{"source":"{\"status\": 2000, \"responsePayload\": payload.name}","requestPayload":"{\"name\":\"Ada\"}"}`,
			http.StatusOK, `"responsePayload":"Ada"`},
		{"run that fails", "run", `{"source":"{\"status\": 2000, \"responsePayload\": payload.missing}","requestPayload":"{}"}`,
			http.StatusBadRequest, `script_error`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := must(http.Post(base+tc.path, "application/json", strings.NewReader(tc.body)))
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(raw), tc.contains) {
				t.Errorf("%d %s", resp.StatusCode, raw)
			}
		})
	}
}

// TestWorkspaceWithBrokenScriptIsRefused: a script that does not compile
// is not activated.
func TestWorkspaceWithBrokenScriptIsRefused(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	ws := srv.Workspace().Clone()
	ws.Onegini.IdPs[0].Scripts.Backchannel = "{\"status\": 2000"
	err := srv.SetWorkspace(ws)
	if err == nil || !strings.Contains(err.Error(), "ExampleId") || !strings.Contains(err.Error(), "backchannel") {
		t.Fatalf("err = %v", err)
	}
	if idp, _ := srv.Workspace().Onegini.IdP("ExampleId"); strings.HasSuffix(idp.Scripts.Backchannel, "2000") {
		t.Error("the broken script became active")
	}
}
