package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the regsandbox binary built once for the tests that run it as
// outside tests do.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "regsandbox-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "regsandbox")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		panic("building regsandbox: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// instance is a running regsandbox process.
type instance struct {
	cmd       *exec.Cmd
	httpAddr  string
	httpsAddr string
	stderr    *syncBuffer
}

// syncBuffer collects a process's output while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listening = regexp.MustCompile(`^regsandbox listening http=(\S+) https=(\S*) admin=http://(\S+)/__admin$`)

func start(t *testing.T, args ...string) *instance {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"--headless", "--addr", "127.0.0.1:0", "--tls-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "DISPLAY=")
	stdout, _ := cmd.StdoutPipe()
	inst := &instance{cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = inst.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- strings.TrimSpace(line)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-lines:
		m := listening.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("listening line %q does not match the contract; stderr: %s", line, inst.stderr)
		}
		inst.httpAddr, inst.httpsAddr = m[1], m[2]
		if m[3] != m[1] {
			t.Errorf("admin address %s differs from http address %s", m[3], m[1])
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no listening line; stderr: %s", inst.stderr)
	}
	return inst
}

func (in *instance) register(t *testing.T, email string) map[string]any {
	t.Helper()
	form := url.Values{"client_id": {"12345abcde12345abcde12345abcde12"}, "flow": {"standard"},
		"flow_version": {"20190618143040022299"}, "locale": {"en-US"}, "redirect_uri": {"http://localhost"},
		"form": {"registrationForm"}, "emailAddress": {email}, "newPassword": {"password123"},
		"newPasswordConfirm": {"password123"}, "firstName": {"John"}, "lastName": {"Doe"},
		"displayName": {strings.Split(email, "@")[0]}}
	resp, err := http.PostForm("http://"+in.httpAddr+"/oauth/register_native_traditional", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return body
}

func (in *instance) users(t *testing.T) []any {
	t.Helper()
	resp, err := http.Get("http://" + in.httpAddr + "/__admin/capture/users")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Users []any }
	json.NewDecoder(resp.Body).Decode(&body)
	return body.Users
}

func TestHeadlessServesAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	in := start(t, "--in-memory")
	if in.httpsAddr == "" {
		t.Error("https address missing from the listening line")
	}
	if got := in.register(t, "johndoe@example.com"); got["stat"] != "ok" {
		t.Fatalf("seed registration: %v", got)
	}
	in.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- in.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v; stderr: %s", err, in.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop after SIGTERM")
	}
}

// TestAcknowledgedRegistrationsSurviveSIGKILL: every registration that
// was answered is there after a crash.
func TestAcknowledgedRegistrationsSurviveSIGKILL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := start(t, "--data", dir)
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		if got := in.register(t, email); got["stat"] != "ok" {
			t.Fatalf("registration of %s: %v", email, got)
		}
	}
	in.cmd.Process.Kill()
	in.cmd.Wait()
	again := start(t, "--data", dir)
	if n := len(again.users(t)); n != 3 {
		t.Errorf("users after SIGKILL and restart = %d, want 3", n)
	}
}

func TestSecondInstanceOnSameDataDirFailsClearly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	start(t, "--data", dir)
	out, err := exec.Command(binary, "--headless", "--addr", "127.0.0.1:0", "--tls-addr", "", "--data", dir).CombinedOutput()
	if err == nil {
		t.Fatal("second instance started on a locked data directory")
	}
	if !strings.Contains(string(out), "in use by another RegSandbox instance") {
		t.Errorf("message = %q", out)
	}
}

func TestWorkspaceFlag(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"capture": "nope"}`), 0o600)
	out, err := exec.Command(binary, "--headless", "--in-memory", "--addr", "127.0.0.1:0", "--workspace", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bad.json") {
		t.Errorf("bad workspace file: err=%v output=%q", err, out)
	}
}

// TestConcurrentRegistrationsOfOneEmail: 64 simultaneous registrations of
// one address through the real server create exactly one user.
func TestConcurrentRegistrationsOfOneEmail(t *testing.T) {
	t.Parallel()
	in := start(t, "--in-memory")
	results := make(chan any, 64)
	for range 64 {
		go func() { results <- in.register(t, "same@example.com")["stat"] }()
	}
	ok := 0
	for range 64 {
		if <-results == "ok" {
			ok++
		}
	}
	if ok != 1 || len(in.users(t)) != 1 {
		t.Errorf("%d registrations succeeded, %d users stored; want 1 and 1", ok, len(in.users(t)))
	}
}

// TestAcknowledgedConfigurationSurvivesSIGKILL: a fault rule and an
// imported message, once acknowledged, are there after a crash.
func TestAcknowledgedConfigurationSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := start(t, "--data", dir)
	admin := "http://" + in.httpAddr + "/__admin"
	resp, err := http.Post(admin+"/faults", "application/json",
		strings.NewReader(`{"id":"kept","endpoint":"capture.entity","error":"capture.api_limit_error","enabled":true}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("adding a fault: %v %v", err, resp)
	}
	resp.Body.Close()
	in.cmd.Process.Kill()
	in.cmd.Wait()
	again := start(t, "--data", dir)
	resp, err = http.Get("http://" + again.httpAddr + "/__admin/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Faults []struct{ ID string } }
	json.NewDecoder(resp.Body).Decode(&body)
	if len(body.Faults) != 1 || body.Faults[0].ID != "kept" {
		t.Errorf("faults after SIGKILL and restart = %+v", body.Faults)
	}
}

// TestListensOnLoopbackUnlessLAN: by default nothing outside the machine
// can reach the mock; --lan opens every interface, on the same ports.
func TestListensOnLoopbackUnlessLAN(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, tc := range []struct {
		args        []string
		http, https string
	}{
		{nil, "127.0.0.1:8080", "127.0.0.1:8443"},
		{[]string{"--addr", "127.0.0.1:0"}, "127.0.0.1:0", "127.0.0.1:8443"},
		{[]string{"--lan"}, ":8080", ":8443"},
		{[]string{"--lan", "--addr", "127.0.0.1:9000", "--tls-addr", ""}, ":9000", ""},
	} {
		o, err := parseFlags(tc.args, getenv, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if o.addr != tc.http || o.tlsAddr != tc.https {
			t.Errorf("%q: listens on %q and %q, want %q and %q", tc.args, o.addr, o.tlsAddr, tc.http, tc.https)
		}
	}
}
