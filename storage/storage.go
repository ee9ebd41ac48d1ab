// Package storage keeps RegSandbox's state in an embedded Badger database
// behind a small typed API: records are JSON documents stored under
// prefixed string keys, read and written inside transactions so that
// read-check-write sequences (such as "is this e-mail address free?") are
// atomic.
package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// ErrLocked reports that another process already holds the data directory.
var ErrLocked = errors.New("the data directory is in use by another RegSandbox instance")

// ErrUnusableDir reports a data directory that cannot be created, read or
// written; the error says which and why.
var ErrUnusableDir = errors.New("the data directory cannot be used")

// ErrConflict reports that a transaction kept conflicting with concurrent
// writers and gave up.
var ErrConflict = errors.New("storage: transaction conflict")

// Options says where and how to open the database.
type Options struct {
	// Dir is the Badger directory; ignored when InMemory is set.
	Dir string
	// InMemory keeps everything in RAM, for tests and throw-away sessions.
	InMemory bool
	// SyncWrites makes every commit durable before it returns. RegSandbox
	// turns it on so that acknowledged registrations survive a crash.
	SyncWrites bool
	// Log tunes the database for a request log, written constantly and
	// trimmed from its old end (see [Open]).
	Log bool
	// FreeSpace replaces how the guard measures the free space of a
	// directory's disk, for tests that cannot fill a disk.
	FreeSpace func(dir string) (uint64, error)
}

// DB is an open database.
type DB struct {
	bdb    *badger.DB
	stopGC chan struct{}
	gcDone chan struct{}
	space  *spaceGuard // nil in memory
	dir    string      // "" in memory
}

// Open opens (or creates) the database described by opts.
func Open(opts Options) (*DB, error) {
	bo := badger.DefaultOptions(opts.Dir).
		WithLogger(nil).
		WithSyncWrites(opts.SyncWrites).
		// A mock holds little data: small tables keep the resident set
		// small and the start fast.
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(8 << 20).
		// Configuration and users rarely reach the value log (values
		// under 1 KiB stay in the tree), and the guard allocates the
		// files it maps up front: small files waste no disk.
		WithValueLogFileSize(8 << 20).
		WithNumCompactors(2)
	switch {
	case opts.InMemory:
		bo = bo.WithDir("").WithValueDir("").WithInMemory(true)
	case opts.Dir == "":
		return nil, errors.New("storage: no data directory given")
	default:
		// Records over 1 KiB (large recorded bodies) go to the value
		// log instead of living in memtables and the LSM tree: Badger's
		// default of 1 MiB kept 100,000 exchanges in a gigabyte of RAM.
		// An in-memory database has no value log, so it keeps them all.
		bo = bo.WithValueThreshold(1 << 10)
		if opts.Log {
			bo = logOptions(bo)
		}
	}
	if !opts.InMemory {
		if err := checkDir(opts.Dir); err != nil {
			return nil, err
		}
	}
	bdb, err := badger.Open(bo)
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("%w (%s)", ErrLocked, opts.Dir)
		}
		return nil, fmt.Errorf("opening database in %s: %w", opts.Dir, explainDiskFull(err, opts.Dir))
	}
	db := &DB{bdb: bdb}
	if !opts.InMemory {
		db.dir = opts.Dir
		free := opts.FreeSpace
		if free == nil {
			free = diskFree
		}
		db.space = newSpaceGuard(opts.Dir, free)
		db.space.start()
		every := gcInterval
		if opts.Log {
			every = logGCInterval
		}
		db.startGC(every)
	}
	return db, nil
}

// checkDir makes sure dir exists and can be read and written, so that a
// wrong path or permission reads as such rather than as a Badger error.
func checkDir(dir string) error {
	unusable := func(err error) error {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return fmt.Errorf("%w: %s: %w", ErrUnusableDir, dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return unusable(err)
	}
	entries, err := os.Open(dir)
	if err != nil {
		return unusable(err)
	}
	_, err = entries.Readdirnames(1)
	entries.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return unusable(err)
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return unusable(explainDiskFull(err, dir))
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// CheckSpace is nil while the disk has room for writes, else an error
// that matches [ErrDiskFull] and says how much room there is. Writes
// through [DB.Update] check it themselves; it is for callers that write
// through [DB.Badger].
func (db *DB) CheckSpace() error { return db.space.err() }

// RecheckSpace looks at the disk now instead of waiting for the guard's
// next round, and answers as [DB.CheckSpace] then does: what it reports
// is what the next write meets.
func (db *DB) RecheckSpace() error {
	if db.space == nil {
		return nil
	}
	db.space.check()
	return db.space.err()
}

// explainDiskFull turns the system's "no space left on device" into the
// guard's error, which says what to do.
func explainDiskFull(err error, dir string) error {
	if err == nil || !errors.Is(err, syscall.ENOSPC) {
		return err
	}
	free, _ := diskFree(dir)
	return fmt.Errorf("%w (%w)", &DiskFullError{Dir: dir, Free: free, Needs: spaceReserve}, err)
}

// logOptions keeps compactions of a request log cheap: every record but
// the smallest goes to the value log, so the tree holds keys, pointers and
// summaries; its blocks are not compressed (the recorder compresses the
// bodies already).
//
// Its space comes back through value-log garbage collection, which only
// rewrites a file once compactions have counted its values as deleted;
// compaction is what drops the versions that retention's deletes hide.
// The tree of a request log grows by keys and pointers only, so with the
// defaults its memtable took minutes to fill under constant load and
// nothing was compacted meanwhile: the value log, and the pages the
// process maps from it, grew by more than a megabyte a second with
// nothing to collect. A small memtable flushes often (within half a
// minute at full load) to a level-0 table that is compacted at once, and
// small value-log files hand space back in small steps, collected every
// few seconds.
func logOptions(bo badger.Options) badger.Options {
	return bo.WithValueThreshold(logValueThreshold).
		WithMemTableSize(1 << 20).
		WithNumLevelZeroTables(1).
		WithValueLogFileSize(8 << 20).
		WithCompression(options.None)
}

var logValueThreshold int64 = 256

// gcInterval spaces value-log garbage collections: the request log turns
// over constantly, and without collection its old values keep their disk.
// A run that finds nothing to collect costs a lookup.
const (
	gcInterval    = time.Minute
	logGCInterval = 5 * time.Second
)

func (db *DB) startGC(every time.Duration) {
	db.stopGC, db.gcDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(db.gcDone)
		ticker := time.NewTicker(every)
		defer ticker.Stop()
		for {
			select {
			case <-db.stopGC:
				return
			case <-ticker.C:
				db.collectGarbage()
			}
		}
	}()
}

// collectGarbage rewrites value-log files at least half garbage. Each
// run rewrites at most one file; it repeats while there is garbage to
// collect, and room to rewrite.
func (db *DB) collectGarbage() {
	for db.CheckSpace() == nil && db.bdb.RunValueLogGC(0.5) == nil {
	}
}

// stopCollecting ends the background collection.
func (db *DB) stopCollecting() {
	if db.stopGC != nil {
		close(db.stopGC)
		<-db.gcDone
		db.stopGC = nil
	}
}

// Close stops the background collection, flushes and closes the database.
func (db *DB) Close() error {
	db.stopCollecting()
	if db.space != nil {
		db.space.close()
		db.space.check()
		if err := db.space.err(); err != nil {
			// Closing flushes the memtable into a table written
			// through a map that a full disk cannot back: SIGBUS on
			// the way out. What the memtable holds is in its log
			// already, which the next start replays; the process
			// exit releases the directory lock.
			return err
		}
	}
	return db.bdb.Close()
}

// Dir is the database's directory; "" for one in memory.
func (db *DB) Dir() string { return db.dir }

// Badger exposes the underlying database for maintenance such as value-log
// garbage collection.
func (db *DB) Badger() *badger.DB { return db.bdb }

// View runs fn in a read-only transaction.
func (db *DB) View(fn func(tx *Tx) error) error {
	return db.bdb.View(func(txn *badger.Txn) error { return fn(&Tx{txn: txn}) })
}

// Update runs fn in a read-write transaction and commits it. When a
// concurrent transaction wrote a key that fn read, the whole of fn runs
// again on fresh data, so fn must have no side effects outside tx.
func (db *DB) Update(fn func(tx *Tx) error) error {
	const attempts = 64
	for range attempts {
		err := db.bdb.Update(func(txn *badger.Txn) error {
			tx := &Tx{txn: txn}
			if err := fn(tx); err != nil {
				return err
			}
			// On a full disk a transaction that only read still
			// commits; one that wrote is dropped.
			if tx.wrote {
				return db.CheckSpace()
			}
			return nil
		})
		if !errors.Is(err, badger.ErrConflict) {
			return explainDiskFull(err, db.dir)
		}
	}
	return ErrConflict
}

// Tx is a transaction.
type Tx struct {
	txn *badger.Txn
	// wrote tells Update that committing needs the disk.
	wrote bool
}

// Get decodes the record at key into v and reports whether it exists.
func (tx *Tx) Get(key string, v any) (bool, error) {
	item, err := tx.txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	err = item.Value(func(raw []byte) error { return json.Unmarshal(raw, v) })
	if err != nil {
		return false, fmt.Errorf("storage: decoding %s: %w", key, err)
	}
	return true, nil
}

// Has reports whether a record exists at key.
func (tx *Tx) Has(key string) (bool, error) {
	_, err := tx.txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Put stores v, JSON-encoded, at key.
func (tx *Tx) Put(key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("storage: encoding %s: %w", key, err)
	}
	return tx.PutRaw(key, raw)
}

// PutRaw stores raw bytes at key.
func (tx *Tx) PutRaw(key string, raw []byte) error {
	tx.wrote = true
	return tx.txn.Set([]byte(key), raw)
}

// GetRaw returns a copy of the bytes at key, or nil when there are none.
func (tx *Tx) GetRaw(key string) ([]byte, error) {
	item, err := tx.txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// Delete removes key; deleting a missing key is not an error.
func (tx *Tx) Delete(key string) error {
	tx.wrote = true
	return tx.txn.Delete([]byte(key))
}

// Scan calls fn for every key that starts with prefix, in key order (or
// reverse key order when reverse is set), until fn returns [ErrStop] or
// another error. The raw value is only valid during the call.
func (tx *Tx) Scan(prefix string, reverse bool, fn func(key string, raw []byte) error) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte(prefix)
	opts.Reverse = reverse
	it := tx.txn.NewIterator(opts)
	defer it.Close()
	start := []byte(prefix)
	if reverse {
		// Seeking backwards starts at the last key with the prefix.
		start = append([]byte(prefix), 0xff)
	}
	for it.Seek(start); it.ValidForPrefix(opts.Prefix); it.Next() {
		item := it.Item()
		err := item.Value(func(raw []byte) error { return fn(string(item.Key()), raw) })
		if errors.Is(err, ErrStop) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ErrStop, returned by a [Tx.Scan] callback, ends the scan without error.
var ErrStop = errors.New("stop scan")

// DeletePrefix removes every key that starts with prefix.
func (db *DB) DeletePrefix(prefix string) error {
	if err := db.CheckSpace(); err != nil {
		return err
	}
	return explainDiskFull(db.bdb.DropPrefix([]byte(prefix)), db.dir)
}
