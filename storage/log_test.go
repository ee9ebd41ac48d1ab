package storage

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// A request log keeps what it was given across a reopen, small values in
// the tree and larger ones in the value log alike.
func TestLogKeepsValuesAcrossReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	values := map[string][]byte{
		"small": []byte("tiny"),
		"large": bytes.Repeat([]byte("exchange "), 200), // over logValueThreshold
		"empty": {},
	}
	db, err := Open(Options{Dir: dir, Log: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *Tx) error {
		for k, v := range values {
			if err := tx.PutRaw("log/"+k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(Options{Dir: dir, Log: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *Tx) error {
		for k, want := range values {
			got, err := tx.GetRaw("log/" + k)
			if err != nil {
				return err
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s after reopen = %q, want %q", k, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A request log under constant turnover gives its space back: values
// written, then deleted as newer ones come (as retention does), must not
// pile up in the value log. Its tree holds keys and pointers only, and
// with the default tuning it was not compacted for minutes, so garbage
// collection never learnt that anything was deleted: under load the log
// grew by more than a megabyte a second, mapped into the process.
func TestLogGivesSpaceBackUnderTurnover(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir, Log: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The test collects between its writes. Badger 4.9.6 reads the
	// memtable's highest version without its lock when a collection
	// starts to rewrite a file (DB.MaxVersion), so the background
	// collection, running while a write is applied, is a data race the
	// race detector catches now and then.
	db.stopCollecting()
	const (
		batch   = 16
		batches = 4000 // 64,000 values of 2 KiB: 125 MiB written
		window  = 64   // batches kept: 2 MiB live
	)
	value := bytes.Repeat([]byte("exchange "), 2048/9)
	key := func(b, i int) []byte { return fmt.Appendf(nil, "log/%08d/%02d", b, i) }
	for b := range batches {
		wb := db.Badger().NewWriteBatch()
		for i := range batch {
			if err := wb.Set(key(b, i), value); err != nil {
				t.Fatal(err)
			}
			if old := b - window; old >= 0 {
				if err := wb.Delete(key(old, i)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := wb.Flush(); err != nil {
			t.Fatal(err)
		}
		if b%200 == 199 {
			db.collectGarbage()
		}
	}
	// Compactions run in the background: give them a moment to count
	// what was deleted.
	written := int64(batches * batch * len(value))
	limit := written / 3
	var vlog int64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		db.collectGarbage()
		if vlog = closedValueLogBytes(t, dir); vlog <= limit || time.Now().After(deadline) {
			break
		}
	}
	if vlog > limit {
		t.Errorf("value log holds %d MiB after %d MiB written with %d MiB live; want under %d MiB",
			vlog>>20, written>>20, int64(window*batch*len(value))>>20, limit>>20)
	}
}

// closedValueLogBytes sums the value-log files of dir but the one being
// written, which Badger allocates ahead at twice its size. (DB.Size is
// refreshed once a minute.)
func closedValueLogBytes(t *testing.T, dir string) int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files) // the names are zero-padded numbers
	var total int64
	for _, f := range files[:max(len(files)-1, 0)] {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		total += info.Size()
	}
	return total
}
