package mockserver_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"regsandbox/mockserver"
	"regsandbox/storage"
)

// A full disk stops what must be written, each API answering in its own
// error shape with a message that says what is wrong, and the server goes
// on serving; health says so; once there is room, writes resume.
func TestFullDiskAnswersInEachAPIsShapeAndRecovers(t *testing.T) {
	t.Parallel()
	var free atomic.Uint64
	free.Store(1 << 40)
	dir := t.TempDir()
	db, err := storage.Open(storage.Options{Dir: dir, SyncWrites: true,
		FreeSpace: func(string) (uint64, error) { return free.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv, err := mockserver.New(db)
	if err != nil {
		t.Fatal(err)
	}
	l, err := srv.Listen("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Shutdown(t.Context()); srv.Close() })
	base := "http://" + l.HTTPAddr

	free.Store(1 << 20)
	waitUntil(t, func() bool { return srv.StorageProblem() != nil })

	form := seedForm()
	resp := must(http.PostForm(base+"/oauth/register_native_traditional", form))
	body := decode(t, resp)
	if body["stat"] != "error" || body["code"] != float64(500) || body["error"] != "unexpected_error" ||
		!strings.Contains(body["error_description"].(string), "disk") {
		t.Errorf("registration on a full disk answered %d %v", resp.StatusCode, body)
	}

	req, _ := http.NewRequest(http.MethodPost, base+"/oauth/api/v3/custom-registration/QrCodeIdp/backchannel",
		strings.NewReader(`{"data":"{\"userId\":\"u\"}"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("example-api-client", "example-api-secret")
	resp = must(http.DefaultClient.Do(req))
	body = decode(t, resp)
	if resp.StatusCode != http.StatusInternalServerError || body["error"] != "internal_server_error" {
		t.Errorf("QR backchannel (writes its cache) on a full disk answered %d %v", resp.StatusCode, body)
	}

	current := must(http.Get(base + "/__admin/workspace"))
	defer current.Body.Close()
	put, _ := http.NewRequest(http.MethodPut, base+"/__admin/workspace", current.Body)
	resp = must(http.DefaultClient.Do(put))
	body = decode(t, resp)
	if resp.StatusCode < 500 || !strings.Contains(fmt.Sprint(body), "disk") {
		t.Errorf("workspace import on a full disk answered %d %v", resp.StatusCode, body)
	}

	health := decode(t, must(http.Get(base+"/__admin/health")))
	if health["status"] != "disk_full" || !strings.Contains(health["problem"].(string), "free some space") {
		t.Errorf("health on a full disk = %v", health)
	}

	free.Store(1 << 40)
	waitUntil(t, func() bool { return srv.StorageProblem() == nil })
	form.Set("emailAddress", "after@example.com")
	form.Set("displayName", "After")
	body = decode(t, must(http.PostForm(base+"/oauth/register_native_traditional", form)))
	if body["stat"] != "ok" {
		t.Errorf("registration once there is room again: %v", body)
	}
	srv.Recorder().Flush()
	page := decode(t, must(http.Get(base+"/__admin/requests?"+url.Values{"q": {"after@example.com"}}.Encode())))
	if items, _ := page["exchanges"].([]any); len(items) == 0 {
		t.Errorf("the registration after the disk emptied is not recorded: %v", page)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
