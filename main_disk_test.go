//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestFullDiskKeepsServingAndSaysWhy fills a small filesystem under a
// running server: Badger maps its logs into memory, and a write to a
// mapped page the disk cannot back kills the process with SIGBUS, then
// again at every restart. The server must instead keep answering, each
// API in its own error shape, say why in its health, resume by itself
// when space comes back, and start on a full disk.
func TestFullDiskKeepsServingAndSaysWhy(t *testing.T) {
	t.Parallel()
	mnt := smallFilesystem(t, "320m")
	dir := filepath.Join(mnt, "data")
	in := start(t, "--data", dir)
	if got := in.register(t, "before@example.com"); got["stat"] != "ok" {
		t.Fatalf("registration with room: %v", got)
	}

	filler := fill(t, mnt)
	in.waitHealth(t, "disk_full")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 40 {
				in.backchannel(t)
				if j%10 == 0 {
					got := in.register(t, strings.Repeat("x", i+1)+"@full.example.com")
					if got["stat"] != "error" || got["error"] != "unexpected_error" ||
						!strings.Contains(got["error_description"].(string), "disk") {
						t.Errorf("registration on a full disk: %v", got)
					}
				}
			}
		}()
	}
	wg.Wait()
	health := in.waitHealth(t, "disk_full")
	if !strings.Contains(health["problem"].(string), "free some space") {
		t.Errorf("health problem = %v", health["problem"])
	}

	os.Remove(filler)
	in.waitHealth(t, "ok")
	if got := in.register(t, "after@example.com"); got["stat"] != "ok" {
		t.Fatalf("registration once there is room again: %v", got)
	}

	// A crash while the disk is full, then a start on the full disk.
	filler = fill(t, mnt)
	in.cmd.Process.Kill()
	in.cmd.Wait()
	again := start(t, "--data", dir)
	again.waitHealth(t, "disk_full")
	if !strings.Contains(again.stderr.String(), "the disk holding") {
		t.Errorf("start on a full disk does not say so; stderr: %s", again.stderr)
	}
	os.Remove(filler)
	again.waitHealth(t, "ok")
	if n := len(again.users(t)); n != 2 {
		t.Errorf("users after the full disk and a crash = %d, want 2", n)
	}
	if strings.Contains(again.stderr.String(), "SIGBUS") || strings.Contains(in.stderr.String(), "SIGBUS") {
		t.Errorf("a process died of SIGBUS: %s %s", in.stderr, again.stderr)
	}
}

// smallFilesystem mounts a tmpfs of size for the test; it needs root, as
// CI has.
func smallFilesystem(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small filesystem needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	// Registered after start's cleanups would be, so it runs after the
	// process is gone: t.Cleanup runs last-in first-out.
	t.Cleanup(func() {
		for range 50 {
			if exec.Command("umount", mnt).Run() == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return mnt
}

// fill writes a file on mnt until the disk is full and returns its path.
func fill(t *testing.T, mnt string) string {
	t.Helper()
	path := filepath.Join(mnt, "filler")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return path
			}
			t.Fatal(err)
		}
	}
}

// waitHealth waits for /__admin/health to report status and returns it.
func (in *instance) waitHealth(t *testing.T, status string) map[string]any {
	t.Helper()
	var health map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + in.httpAddr + "/__admin/health")
		if err != nil {
			t.Fatalf("health: %v; stderr: %s", err, in.stderr)
		}
		health = nil
		json.NewDecoder(resp.Body).Decode(&health)
		resp.Body.Close()
		if health["status"] == status {
			return health
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("health never said %s: %v; stderr: %s", status, health, in.stderr)
	return nil
}

// backchannel sends the seed backchannel call, which the server must
// answer whatever the disk.
func (in *instance) backchannel(t *testing.T) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost,
		"http://"+in.httpAddr+"/oauth/api/v3/custom-registration/ExampleId/backchannel",
		strings.NewReader(`{"data":"{\"email_address\":\"jane@example.com\"}"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("example-api-client", "example-api-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("backchannel on a full disk: %v; stderr: %s", err, in.stderr)
		return
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("backchannel on a full disk answered %d %s", resp.StatusCode, raw)
	}
}

// TestUnusableDataDirSaysWhy: a data directory that cannot be created,
// read or written stops the start with a message that names it, says why
// and what to do, and exit code 1: no crash, no retry loop.
func TestUnusableDataDirSaysWhy(t *testing.T) {
	t.Parallel()
	// World-traversable, so that an unprivileged user can run the binary.
	root, err := os.MkdirTemp("", "regsandbox-perm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "locked"), 0o700); os.RemoveAll(root) })
	exe := filepath.Join(root, "regsandbox")
	raw, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(exe, raw, 0o755))
	must(t, os.Chmod(root, 0o755))
	must(t, os.Mkdir(filepath.Join(root, "locked"), 0o000))
	must(t, os.Mkdir(filepath.Join(root, "readonly"), 0o555))
	must(t, os.WriteFile(filepath.Join(root, "a-file"), nil, 0o644))

	for _, tc := range []struct{ dir, why string }{
		{"locked", "permission denied"},
		{"readonly", "permission denied"},
		{"readonly/sub", "permission denied"},
		{"a-file", "not a directory"},
	} {
		dir := filepath.Join(root, tc.dir)
		out, err := outputOfFreshCopy(func() *exec.Cmd {
			cmd := exec.Command(exe, "--headless", "--addr", "127.0.0.1:0", "--tls-addr", "", "--data", dir)
			cmd.Env = append(os.Environ(), "DISPLAY=", "HOME="+root)
			if os.Geteuid() == 0 {
				// Root reads and writes anything: run as nobody.
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			}
			return cmd
		})
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("--data %s: %v, want exit code 1; output: %s", tc.dir, err, out)
			continue
		}
		for _, want := range []string{dir, tc.why, "--data DIR"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("--data %s: output does not say %q: %s", tc.dir, want, out)
			}
		}
		if strings.Contains(string(out), "goroutine ") {
			t.Errorf("--data %s crashed: %s", tc.dir, out)
		}
	}
}

// outputOfFreshCopy runs the command newCmd makes and returns its
// output, trying again while the kernel calls the binary busy: a binary
// just written may still be open for writing in a process that another
// test forked meanwhile, until that process execs (go.dev/issue/22315).
func outputOfFreshCopy(newCmd func() *exec.Cmd) ([]byte, error) {
	for tries := 1; ; tries++ {
		out, err := newCmd().CombinedOutput()
		if !errors.Is(err, syscall.ETXTBSY) || tries == 100 {
			return out, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
