package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A disk that runs out of room stops writes with an error that says so
// and what to do, before Badger's memory-mapped files can crash the
// process; writes resume by themselves once there is room again.
func TestWritesStopWhileTheDiskIsFullAndResume(t *testing.T) {
	t.Parallel()
	var free atomic.Uint64
	free.Store(1 << 40)
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir, SyncWrites: true,
		FreeSpace: func(string) (uint64, error) { return free.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := Store(db, "k/1", record{Name: "before"}); err != nil {
		t.Fatalf("write with room: %v", err)
	}

	free.Store(3 << 20)
	waitFor(t, func() bool { return db.CheckSpace() != nil })
	err = Store(db, "k/2", record{Name: "while full"})
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("write on a full disk = %v, want ErrDiskFull", err)
	}
	for _, want := range []string{dir, "3.0 MiB free", "free some space"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// A transaction that only reads, as a start does, still runs.
	err = db.Update(func(tx *Tx) error {
		_, err := tx.Get("k/1", &record{})
		return err
	})
	if err != nil {
		t.Errorf("read-only Update on a full disk: %v", err)
	}
	if err := db.DeletePrefix("k/"); !errors.Is(err, ErrDiskFull) {
		t.Errorf("DeletePrefix on a full disk = %v, want ErrDiskFull", err)
	}
	if _, found, _ := Load[record](db, "k/2"); found {
		t.Error("the refused write is there")
	}
	if got, found, err := Load[record](db, "k/1"); err != nil || !found || got.Name != "before" {
		t.Errorf("reads on a full disk: %+v %v %v", got, found, err)
	}

	free.Store(1 << 40)
	waitFor(t, func() bool { return db.CheckSpace() == nil })
	if err := Store(db, "k/3", record{Name: "after"}); err != nil {
		t.Fatalf("write once there is room again: %v", err)
	}
}

// The guard backs the holes of Badger's mapped logs (which writes through
// the maps would fill without asking the disk), so that nobody else can
// take their pages; a disk with less free space than the reserve plus the
// holes it could not back is full.
func TestGuardBacksMappedLogsAndKeepsAReserve(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sub := filepath.Join(dir, "requests")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	sparse := func(path string, size int64) {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
	}
	sparse(filepath.Join(dir, "000001.vlog"), 4<<20)
	sparse(filepath.Join(dir, "00001.mem"), 2<<20)
	sparse(filepath.Join(dir, "000002.sst"), 8<<20) // not a log: left alone
	sparse(filepath.Join(sub, "00001.mem"), 2<<20)  // another database's: its own guard's
	free := uint64(spaceReserve + 1)
	g := newSpaceGuard(dir, func(string) (uint64, error) { return free, nil })
	g.check()
	if err := g.err(); err != nil {
		t.Fatalf("free space over the reserve: %v", err)
	}
	for _, name := range []string{"000001.vlog", "00001.mem"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if h := holeBytes(info); h != 0 {
			t.Errorf("%s keeps %d bytes of holes after the check", name, h)
		}
	}
	for _, name := range []string{"000002.sst", "requests/00001.mem"} {
		if info, _ := os.Stat(filepath.Join(dir, name)); holeBytes(info) == 0 {
			t.Errorf("%s was allocated too", name)
		}
	}
	free = spaceReserve - 1
	g.check()
	if err := g.err(); !errors.Is(err, ErrDiskFull) {
		t.Errorf("free space under the reserve: %v", err)
	}
	// A disk whose free space cannot be read is not called full.
	g = newSpaceGuard(dir, func(string) (uint64, error) { return 0, errors.New("unknown") })
	g.check()
	if g.err() != nil {
		t.Errorf("unknown free space: %v", g.err())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
