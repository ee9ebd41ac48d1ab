package mockserver_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"regsandbox/mockserver"
	"regsandbox/storage"
)

// newServer starts a server on an in-memory database on free loopback
// ports, HTTP and HTTPS.
func newServer(t *testing.T, opts ...mockserver.Option) (*mockserver.Server, *mockserver.Listening) {
	t.Helper()
	db, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mockserver.New(db, opts...)
	if err != nil {
		t.Fatal(err)
	}
	l, err := srv.Listen("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Shutdown(t.Context())
		srv.Close()
		db.Close()
	})
	return srv, l
}

func decode(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("not JSON (%d): %s", resp.StatusCode, raw)
	}
	return v
}

func seedForm() url.Values {
	return url.Values{"client_id": {"12345abcde12345abcde12345abcde12"}, "flow": {"standard"},
		"flow_version": {"20190618143040022299"}, "locale": {"en-US"}, "redirect_uri": {"http://localhost"},
		"response_type": {"token"}, "form": {"registrationForm"}, "emailAddress": {"johndoe@example.com"},
		"newPassword": {"password123"}, "newPasswordConfirm": {"password123"}, "lastName": {"Doe"},
		"firstName": {"John"}, "displayName": {"JohnDoe"}, "birthdate[dateselect_year]": {"1930"},
		"birthdate[dateselect_month]": {"11"}, "birthdate[dateselect_day]": {"3"}}
}

// TestSeedRegistrationOverHTTPS: a client that trusts only the exported CA
// registers over HTTPS on 127.0.0.1, and the certificate names every
// address a device uses.
func TestSeedRegistrationOverHTTPS(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	resp, err := http.Get("http://" + l.HTTPAddr + "/__admin/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(pemBytes, []byte("PRIVATE KEY")) {
		t.Fatal("ca.pem contains a private key")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("ca.pem is not a PEM certificate: %s", pemBytes)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	resp, err = client.PostForm("https://"+l.HTTPSAddr+"/oauth/register_native_traditional", seedForm())
	if err != nil {
		t.Fatal(err)
	}
	cert := resp.TLS.PeerCertificates[0]
	body := decode(t, resp)
	if body["stat"] != "ok" {
		t.Fatalf("registration over HTTPS: %v", body)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("protocol = %s, want HTTP/2", resp.Proto)
	}
	var names []string
	names = append(names, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		names = append(names, ip.String())
	}
	for _, want := range []string{"localhost", "127.0.0.1", "::1", "10.0.2.2", "10.0.3.2"} {
		if !slices.Contains(names, want) {
			t.Errorf("certificate names %v lack %s", names, want)
		}
	}
}

func TestListeningLine(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	line := l.Line()
	if !strings.HasPrefix(line, "regsandbox listening http=127.0.0.1:") ||
		!strings.Contains(line, " https=127.0.0.1:") || !strings.HasSuffix(line, "/__admin") {
		t.Errorf("line = %q", line)
	}
}

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	base := "http://" + l.HTTPAddr + "/__admin"

	health := decode(t, must(http.Get(base+"/health")))
	if health["status"] != "ok" {
		t.Errorf("health = %v", health)
	}

	minted := decode(t, must(http.Post(base+"/capture/social-tokens", "application/json",
		strings.NewReader(`{"provider":"twitter","identifier":"tw-1","email":"tw@example.com","firstName":"T","lastName":"W","displayName":"TW"}`))))
	if tok, _ := minted["token"].(string); len(tok) != 40 {
		t.Errorf("minted = %v", minted)
	}

	must(http.PostForm("http://"+l.HTTPAddr+"/oauth/register_native_traditional", seedForm())).Body.Close()
	users := decode(t, must(http.Get(base+"/capture/users")))["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["email"] != "johndoe@example.com" {
		t.Fatalf("users = %v", users)
	}
	if _, hasPassword := users[0].(map[string]any)["password"]; hasPassword {
		t.Error("users list shows a password")
	}

	resp := must(http.Post(base+"/reset", "application/json", nil))
	resp.Body.Close()
	users = decode(t, must(http.Get(base+"/capture/users")))["users"].([]any)
	if len(users) != 0 {
		t.Errorf("users after reset = %v", users)
	}

	resp = must(http.Get(base + "/nope"))
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown admin path: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestWorkspaceImportIsAllOrNothing(t *testing.T) {
	t.Parallel()
	srv, l := newServer(t)
	base := "http://" + l.HTTPAddr + "/__admin/workspace"
	exported, _ := io.ReadAll(must(http.Get(base)).Body)

	changed := strings.Replace(string(exported), `"Email address is required."`, `"Please give your e-mail."`, 1)
	req, _ := http.NewRequest(http.MethodPut, base, strings.NewReader(changed))
	resp := must(http.DefaultClient.Do(req))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("import of a valid workspace: %d", resp.StatusCode)
	}
	form := seedForm()
	form.Del("emailAddress")
	answer := decode(t, must(http.PostForm("http://"+l.HTTPAddr+"/oauth/register_native_traditional", form)))
	if got := answer["invalid_fields"].(map[string]any)["emailAddress"].([]any)[0]; got != "Please give your e-mail." {
		t.Errorf("message after import = %v", got)
	}

	before := srv.Workspace()
	for _, bad := range []string{`{"capture": 12}`, `not json`, strings.Replace(changed, `"rule":"match"`, `"rule":"sameAs"`, 1)} {
		req, _ := http.NewRequest(http.MethodPut, base, strings.NewReader(bad))
		resp := must(http.DefaultClient.Do(req))
		body := decode(t, resp)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_workspace" {
			t.Errorf("bad import answered %d %v", resp.StatusCode, body)
		}
	}
	if srv.Workspace() != before {
		t.Error("a refused import changed the workspace")
	}
}

func TestAdminRefusesOtherHostsWithoutToken(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, mockserver.WithAdminToken("s3cret"))
	for _, tc := range []struct {
		remote, auth string
		want         int
	}{
		{"127.0.0.1:5555", "", http.StatusOK},
		{"[::1]:5555", "", http.StatusOK},
		{"192.168.1.20:5555", "", http.StatusForbidden},
		{"192.168.1.20:5555", "Bearer wrong", http.StatusForbidden},
		{"192.168.1.20:5555", "Bearer s3cret", http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodGet, "/__admin/health", nil)
		req.RemoteAddr = tc.remote
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := newRecorder()
		srv.ServeHTTP(rec, req)
		if rec.status != tc.want {
			t.Errorf("%s %q: %d, want %d", tc.remote, tc.auth, rec.status, tc.want)
		}
	}
}

func TestUnknownPathAnswersJSON(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	resp := must(http.Get("http://" + l.HTTPAddr + "/nowhere"))
	if resp.StatusCode != http.StatusNotFound || decode(t, resp)["error"] != "not_found" {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
}

func must(resp *http.Response, err error) *http.Response {
	if err != nil {
		panic(err)
	}
	return resp
}

// recorder is a minimal ResponseWriter for handler-level tests.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder                    { return &recorder{header: http.Header{}} }
func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(s int)           { r.status = s }

func TestPresetsThroughAdmin(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	base := "http://" + l.HTTPAddr
	presets := decode(t, must(http.Get(base+"/__admin/presets")))["presets"].([]any)
	if len(presets) < 6 {
		t.Fatalf("presets = %v", presets)
	}
	resp := must(http.Post(base+"/__admin/presets/capture-down", "application/json", nil))
	resp.Body.Close()
	down := must(http.PostForm(base+"/oauth/register_native_traditional", seedForm()))
	down.Body.Close()
	if down.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("Capture is down: %d", down.StatusCode)
	}
	if status, _ := backchannel(t, base); status != http.StatusOK {
		t.Errorf("Onegini during a Capture outage: %d", status)
	}
	resp = must(http.Post(base+"/__admin/presets/nope", "application/json", nil))
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown preset: %d", resp.StatusCode)
	}
}

func TestWorkspaceExportHoldsNoKeys(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	resp := must(http.Get("http://" + l.HTTPAddr + "/__admin/workspace"))
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(raw, []byte("PRIVATE KEY")) || bytes.Contains(raw, []byte("BEGIN CERTIFICATE")) {
		t.Error("the workspace export carries key material")
	}
}

// TestFlowDocumentFollowsTheWorkspace: the cached flow document is
// rebuilt when the workspace changes.
func TestFlowDocumentFollowsTheWorkspace(t *testing.T) {
	t.Parallel()
	srv, l := newServer(t)
	url := "http://" + l.HTTPAddr + "/widget_data/flows/example-app/standard/20190618143040022299/en-US.json"
	label := func() any {
		doc := decode(t, must(http.Get(url)))
		return doc["fields"].(map[string]any)["emailAddress"].(map[string]any)["label"]
	}
	if got := label(); got != "Email address" {
		t.Fatalf("label = %v", got)
	}
	ws := srv.Workspace().Clone()
	ws.Capture.Flows[0].Fields[0].Label["en-US"] = "Your e-mail"
	if err := srv.SetWorkspace(ws); err != nil {
		t.Fatal(err)
	}
	if got := label(); got != "Your e-mail" {
		t.Errorf("label after the change = %v", got)
	}
}

func TestStopAndStartAgainOnTheSamePorts(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	url := "http://" + l.HTTPAddr + "/__admin/health"
	if err := l.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if l.Running() {
		t.Error("running after Shutdown")
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Fatal("still answering after Shutdown")
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	if decode(t, must(http.Get(url)))["status"] != "ok" {
		t.Error("not answering after Start")
	}
}
