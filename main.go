// Command regsandbox is a desktop sandbox for identity-registration APIs:
// a local mock of Capture (Janrain / Akamai Identity Cloud) and of
// Onegini's custom registration, with a window to watch and steer it, or
// headless for CI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	fyneapp "fyne.io/fyne/v2/app"

	"regsandbox/app"
	"regsandbox/mockserver"
	"regsandbox/storage"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// options are the command-line flags of the contract.
type options struct {
	headless   bool
	addr       string
	tlsAddr    string
	dataDir    string
	inMemory   bool
	workspace  string
	lan        bool
	adminToken string
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("regsandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.headless, "headless", false, "serve without a window")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "HTTP address (port 0 picks a free port)")
	fs.StringVar(&o.tlsAddr, "tls-addr", "127.0.0.1:8443", "HTTPS address (empty disables HTTPS)")
	fs.StringVar(&o.dataDir, "data", defaultDataDir(getenv), "database directory")
	fs.BoolVar(&o.inMemory, "in-memory", false, "keep everything in memory (nothing survives a restart)")
	fs.StringVar(&o.workspace, "workspace", "", "workspace JSON file to import at start")
	fs.BoolVar(&o.lan, "lan", false, "listen on every interface so phones on the LAN can connect")
	fs.StringVar(&o.adminToken, "admin-token", "", "let non-loopback clients use the admin API with this bearer token")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.lan {
		o.addr = anyInterface(o.addr)
		o.tlsAddr = anyInterface(o.tlsAddr)
	}
	return o, nil
}

// run is the whole program, with its environment passed in so tests can
// drive it; it returns the exit code.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	limitMemory(getenv)
	servePprof(getenv("REGSANDBOX_PPROF"), stderr)
	if !o.headless && !hasDisplay(getenv) {
		fmt.Fprintln(stderr, "regsandbox: no display found, running headless")
		o.headless = true
	}
	db, requestLog, err := openDatabases(o)
	if err != nil {
		fmt.Fprintln(stderr, "regsandbox:", err)
		if errors.Is(err, storage.ErrUnusableDir) {
			fmt.Fprintln(stderr, "regsandbox: give a directory RegSandbox can read and write with --data DIR, or fix the permissions of this one")
		}
		return 1
	}
	defer db.Close()
	if requestLog != db {
		defer requestLog.Close()
	}
	serverOpts := []mockserver.Option{mockserver.WithAdminToken(o.adminToken),
		mockserver.WithRequestLog(requestLog)}
	if o.lan {
		serverOpts = append(serverOpts, mockserver.WithLANAddress(mockserver.LANAddress()))
	}
	srv, err := mockserver.New(db, serverOpts...)
	if err != nil {
		fmt.Fprintln(stderr, "regsandbox:", err)
		return 1
	}
	defer srv.Close()
	if err := srv.StorageProblem(); err != nil {
		fmt.Fprintln(stderr, "regsandbox: warning:", err)
	}
	if o.workspace != "" {
		if err := importWorkspace(srv, o.workspace); err != nil {
			fmt.Fprintln(stderr, "regsandbox:", err)
			return 1
		}
	}
	// Signals are caught before the listening line is printed: a
	// supervisor that reads the line and stops the server at once must
	// find the clean shutdown, not Go's default of dying on SIGTERM. With
	// a window, Fyne's driver also catches them and closes it, which
	// leads to the same shutdown (scripts/e2e-window.sh checks).
	stop := notifyOnSignal()
	defer signal.Stop(stop)
	l, err := srv.Listen(o.addr, o.tlsAddr)
	if err != nil {
		fmt.Fprintln(stderr, "regsandbox:", err)
		return 1
	}
	fmt.Fprintln(stdout, l.Line())
	if o.headless {
		<-stop
	} else {
		app.New(fyneapp.NewWithID("dev.regsandbox.app"), srv, l).ShowAndRun()
	}
	srv.ReleaseHeld()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		fmt.Fprintln(stderr, "regsandbox: shutting down:", err)
	}
	return 0
}

// openDatabases opens the database of what users configure and register,
// every write synced, and the request log beside it in its own directory,
// whose writes are batched but not synced: an exchange lost to a power
// cut costs nothing, while waiting for the disk on every one of them
// cost a quarter of the server's time. In memory, one database holds both.
func openDatabases(o options) (db, requestLog *storage.DB, err error) {
	db, err = storage.Open(storage.Options{Dir: o.dataDir, InMemory: o.inMemory, SyncWrites: true})
	if err != nil || o.inMemory {
		return db, db, err
	}
	requestLog, err = storage.Open(storage.Options{Dir: filepath.Join(o.dataDir, requestLogDir), Log: true})
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("opening the request log: %w", err)
	}
	return db, requestLog, nil
}

// requestLogDir is the request log's directory inside the data directory;
// Badger ignores directories among its files.
const requestLogDir = "requests"

// memoryLimit is a soft limit for the Go heap: Badger's buffers come and
// go in bursts, and without a limit the heap grows to twice its peak.
const memoryLimit = 160 << 20

// limitMemory sets the soft limit unless the user chose one with GOMEMLIMIT.
func limitMemory(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

func importWorkspace(srv *mockserver.Server, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := srv.ImportWorkspace(raw); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// notifyOnSignal delivers an interrupt or SIGTERM on the returned channel
// instead of letting it end the process.
func notifyOnSignal() chan os.Signal {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	return sig
}

// hasDisplay tells whether a window can open: always on macOS and
// Windows, with X11 or Wayland elsewhere.
func hasDisplay(getenv func(string) string) bool {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return true
	}
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}

// defaultDataDir is RegSandbox's folder in the user's data directory.
func defaultDataDir(getenv func(string) string) string {
	base := getenv("XDG_DATA_HOME")
	if base == "" {
		switch runtime.GOOS {
		case "darwin", "windows":
			base, _ = os.UserConfigDir()
		default:
			if home, err := os.UserHomeDir(); err == nil {
				base = filepath.Join(home, ".local", "share")
			}
		}
	}
	if base == "" {
		base = os.TempDir()
	}
	return filepath.Join(base, "regsandbox")
}

// anyInterface keeps the port of addr and listens on every interface.
func anyInterface(addr string) string {
	if addr == "" {
		return ""
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return ":" + port
}
