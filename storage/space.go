package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrDiskFull reports that the disk holding the data directory has too
// little free space for RegSandbox to write safely; nothing was written.
var ErrDiskFull = errors.New("the disk is full")

// Why a guard at all: Badger writes its memtable log, its value log and
// its tables through memory maps of files it creates sparse. When the disk
// fills, a write to a page the disk cannot back kills the process with
// SIGBUS: a crash, and the same crash again after each restart. The guard
// therefore backs the holes of the logs as soon as it sees them (so that
// someone else filling the disk cannot take their pages), and refuses
// writes, with an error each caller answers in its own shape, while the
// free space is below a reserve for the tables that flushes and
// compactions write.

// spaceReserve is the free space below which writes stop: room for the
// tables a memtable flush and a compaction write.
const spaceReserve = 64 << 20

// spaceCheckEvery is how often the guard looks at the disk.
const spaceCheckEvery = 200 * time.Millisecond

// DiskFullError says how much space there is and how much is needed.
type DiskFullError struct {
	Dir         string
	Free, Needs uint64
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("the disk holding %s is full: %s free, RegSandbox needs %s to write safely; free some space (writes resume by themselves)",
		e.Dir, formatBytes(e.Free), formatBytes(e.Needs))
}

func (e *DiskFullError) Is(target error) bool { return target == ErrDiskFull }

func formatBytes(n uint64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// spaceGuard watches the database directory root and its disk.
type spaceGuard struct {
	root string
	// freeSpace reports the bytes available to RegSandbox on the
	// filesystem holding a path; tests replace it.
	freeSpace func(path string) (uint64, error)
	full      atomic.Pointer[DiskFullError]
	// checking serializes checks, so that a slow check begun before the
	// disk changed cannot overwrite a later one's verdict.
	checking  sync.Mutex
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newSpaceGuard(root string, freeSpace func(string) (uint64, error)) *spaceGuard {
	return &spaceGuard{root: root, freeSpace: freeSpace}
}

// start checks once, then every spaceCheckEvery until close.
func (g *spaceGuard) start() {
	g.check()
	g.stop, g.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(g.done)
		ticker := time.NewTicker(spaceCheckEvery)
		defer ticker.Stop()
		for {
			select {
			case <-g.stop:
				return
			case <-ticker.C:
				g.check()
			}
		}
	}()
}

func (g *spaceGuard) close() {
	g.closeOnce.Do(func() {
		if g.stop != nil {
			close(g.stop)
			<-g.done
		}
	})
}

// check backs the holes of the mapped logs, then compares the free space
// with the reserve plus whatever could not be backed. A filesystem it
// cannot read is not called full: the writes themselves will say what is
// wrong.
func (g *spaceGuard) check() {
	g.checking.Lock()
	defer g.checking.Unlock()
	holes := backMappedFiles(g.root)
	free, err := g.freeSpace(g.root)
	if err != nil {
		g.full.Store(nil)
		return
	}
	if needs := holes + spaceReserve; free < needs {
		g.full.Store(&DiskFullError{Dir: g.root, Free: free, Needs: needs})
		return
	}
	g.full.Store(nil)
}

// err is nil while writing is safe.
func (g *spaceGuard) err() error {
	if g == nil {
		return nil
	}
	if e := g.full.Load(); e != nil {
		return e
	}
	return nil
}

// backMappedFiles allocates the holes of the memory-mapped Badger logs in
// dir and returns what is left unallocated: the space their pages could
// still ask of a full disk. Each database watches its own directory; a
// database in a subdirectory (the request log) has its own guard.
func backMappedFiles(dir string) uint64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var total uint64
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".mem") && !strings.HasSuffix(name, ".vlog") {
			continue
		}
		info, err := e.Info()
		if err != nil || holeBytes(info) == 0 {
			continue // vanished meanwhile (Badger deletes files), or backed
		}
		path := filepath.Join(dir, name)
		if allocate(path, info.Size()) == nil {
			if info, err = os.Stat(path); err != nil {
				continue
			}
		}
		total += holeBytes(info)
	}
	return total
}
