package mockserver_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// har is the part of HAR 1.2 that viewers require.
type har struct {
	Log struct {
		Version string `json:"version"`
		Creator struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"creator"`
		Entries []struct {
			StartedDateTime string  `json:"startedDateTime"`
			Time            float64 `json:"time"`
			Request         struct {
				Method      string `json:"method"`
				URL         string `json:"url"`
				HTTPVersion string `json:"httpVersion"`
				Headers     []any  `json:"headers"`
				QueryString []any  `json:"queryString"`
				HeadersSize *int   `json:"headersSize"`
				BodySize    *int   `json:"bodySize"`
			} `json:"request"`
			Response struct {
				Status  int `json:"status"`
				Content struct {
					MimeType string `json:"mimeType"`
					Text     string `json:"text"`
				} `json:"content"`
				RedirectURL *string `json:"redirectURL"`
			} `json:"response"`
			Timings struct {
				Wait *float64 `json:"wait"`
			} `json:"timings"`
		} `json:"entries"`
	} `json:"log"`
}

func TestRegistrationAndBackchannelAppearInLogAndHAR(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	base := "http://" + l.HTTPAddr
	decode(t, must(http.PostForm(base+"/oauth/register_native_traditional", seedForm())))
	backchannel(t, base)

	list := decode(t, must(http.Get(base+"/__admin/requests")))
	exchanges := list["exchanges"].([]any)
	if len(exchanges) != 2 {
		t.Fatalf("log has %d exchanges, want 2", len(exchanges))
	}
	endpoints := exchanges[0].(map[string]any)["endpoint"].(string) + " " + exchanges[1].(map[string]any)["endpoint"].(string)
	if endpoints != "onegini.backchannel capture.register_native_traditional" {
		t.Errorf("endpoints newest first = %q", endpoints)
	}
	if script := exchanges[0].(map[string]any)["script"].(map[string]any); script["status"] != float64(2000) {
		t.Errorf("backchannel script note = %v", script)
	}

	resp := must(http.Get(base + "/__admin/requests.har"))
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var doc har
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("HAR does not parse: %v", err)
	}
	if doc.Log.Version != "1.2" || doc.Log.Creator.Name == "" || len(doc.Log.Entries) != 2 {
		t.Fatalf("HAR log = %+v", doc.Log)
	}
	for _, e := range doc.Log.Entries {
		if _, err := time.Parse(time.RFC3339Nano, e.StartedDateTime); err != nil {
			t.Errorf("startedDateTime %q: %v", e.StartedDateTime, err)
		}
		if !strings.HasPrefix(e.Request.URL, "http://") || e.Request.HeadersSize == nil || e.Request.BodySize == nil ||
			e.Response.RedirectURL == nil || e.Timings.Wait == nil || e.Request.Headers == nil || e.Request.QueryString == nil {
			t.Errorf("entry lacks required HAR fields: %+v", e)
		}
	}
	for _, secret := range []string{"password123", "example-api-secret", "ZXhhbXBsZS1hcGktY2xpZW50OmV4YW1wbGUtYXBpLXNlY3JldA"} {
		logRaw, _ := json.Marshal(list)
		if strings.Contains(string(raw), secret) || strings.Contains(string(logRaw), secret) {
			t.Errorf("%q appears in the log or the HAR", secret)
		}
	}
}

func TestEventsStreamNewExchanges(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	base := "http://" + l.HTTPAddr
	resp := must(http.Get(base + "/__admin/events"))
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	lines := bufio.NewReader(resp.Body)
	lines.ReadString('\n') // the opening comment
	lines.ReadString('\n')
	go backchannel(t, base)
	deadline := time.After(5 * time.Second)
	got := make(chan string, 1)
	go func() {
		for {
			line, err := lines.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(line, "data: ") {
				got <- line
				return
			}
		}
	}()
	select {
	case line := <-got:
		if !strings.Contains(line, `"endpoint":"onegini.backchannel"`) {
			t.Errorf("event = %s", line)
		}
	case <-deadline:
		t.Fatal("no event within 5 s")
	}
}

func TestReplayRecordsAgain(t *testing.T) {
	t.Parallel()
	srv, l := newServer(t)
	base := "http://" + l.HTTPAddr
	backchannel(t, base)
	id := decode(t, must(http.Get(base+"/__admin/requests")))["exchanges"].([]any)[0].(map[string]any)["id"].(string)
	replayed := decode(t, must(http.Post(base+"/__admin/requests/"+id+"/replay", "application/json", nil)))
	if replayed["status"] != float64(200) {
		t.Errorf("replay = %v", replayed)
	}
	if n := srv.Recorder().Count(); n != 2 {
		t.Errorf("count after replay = %d", n)
	}
}

// TestWorkspaceExportReproducesBehaviour: an exported workspace imported
// into a fresh instance answers the same.
func TestWorkspaceExportReproducesBehaviour(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	ws := srv.Workspace().Clone()
	ws.Capture.Flows[0].Fields[0].Validations[0].Messages["en-US"] = "Tell us your e-mail."
	ws.Onegini.IdPs[0].Scripts.Backchannel = `{"status": 2100, "responsePayload": "custom"}`
	if err := srv.SetWorkspace(ws); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddFault(faultNextEntity()); err != nil {
		t.Fatal(err)
	}
	exported, _ := json.Marshal(srv.Workspace())

	fresh, l := newServer(t)
	if err := fresh.ImportWorkspace(exported); err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.HTTPAddr
	form := seedForm()
	form.Del("emailAddress")
	answer := decode(t, must(http.PostForm(base+"/oauth/register_native_traditional", form)))
	if answer["invalid_fields"].(map[string]any)["emailAddress"].([]any)[0] != "Tell us your e-mail." {
		t.Errorf("message = %v", answer)
	}
	if _, body := backchannel(t, base); body["status"] != float64(2100) {
		t.Errorf("backchannel = %v", body)
	}
	entity := decode(t, must(http.Get(base+"/entity?access_token=x")))
	if entity["error"] != "api_limit_error" {
		t.Errorf("fault rule not reproduced: %v", entity)
	}
}
