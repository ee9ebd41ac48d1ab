package recorder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"regsandbox/storage"
)

func openLog(t *testing.T, dir string) *storage.DB {
	t.Helper()
	db, err := storage.Open(storage.Options{Dir: dir, Log: true})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// reopenLog opens the request log in dir again, with a recorder keeping
// 50 exchanges; both close when the test ends.
func reopenLog(t *testing.T, dir string) *Recorder {
	t.Helper()
	db := openLog(t, dir)
	rec := New(db, WithLimit(50))
	t.Cleanup(func() {
		rec.Close()
		db.Close()
	})
	return rec
}

// segmentFileNames lists the segment files of a request log.
func segmentFileNames(t *testing.T, logDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(logDir, segmentFilesDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestPlaceRoundTrip(t *testing.T) {
	t.Parallel()
	for _, p := range []place{{0, 0, 1}, {7, 4 << 20, 65536}, {1 << 40, 1 << 40, maxSegmentPlain}} {
		got, ok := parsePlace(appendPlace(nil, p))
		if !ok || got != p {
			t.Errorf("%+v read back as %+v (%v)", p, got, ok)
		}
	}
	good := appendPlace(nil, place{3, 100, 200})
	for name, v := range map[string][]byte{
		"empty":          nil,
		"inline segment": {segmentVersion, 1, 0, 0, 0, 0},
		"cut short":      good[:len(good)-1],
		"trailing byte":  append(slices.Clone(good), 0),
		"empty segment":  appendPlace(nil, place{3, 100, 0}),
		"too large":      appendPlace(nil, place{3, 100, maxSegmentPlain + 1}),
	} {
		if p, ok := parsePlace(v); ok {
			t.Errorf("%s: read as %+v", name, p)
		}
	}
}

// TestSegmentFiles: bytes read back where append put them, across files;
// a dropped file's segments read as gone, the current file stays.
func TestSegmentFiles(t *testing.T) {
	t.Parallel()
	fs, err := openSegmentFiles(filepath.Join(t.TempDir(), segmentFilesDir))
	if err != nil {
		t.Fatal(err)
	}
	defer fs.close()
	fs.fileSize = 100
	var places []place
	for i := range 5 {
		b := []byte(strings.Repeat(fmt.Sprint(i), 60))
		file, off, err := fs.append(b)
		if err != nil {
			t.Fatal(err)
		}
		fs.stored(file, xid{int64(i + 1), 0})
		places = append(places, place{file, off, int64(len(b))})
	}
	equal(t, "files", len(fs.files), 3) // 120 bytes each but the last
	for i, p := range places {
		got, err := fs.read(p, nil)
		equal(t, "error", err, nil)
		equal(t, fmt.Sprint("segment ", i), string(got), strings.Repeat(fmt.Sprint(i), 60))
	}
	if err := fs.dropBefore(xid{10, 0}); err != nil {
		t.Fatal(err)
	}
	equal(t, "files kept", len(fs.files), 1) // the current one
	for i, p := range places {
		_, err := fs.read(p, nil)
		gone := errors.Is(err, errSegmentGone)
		equal(t, fmt.Sprint("segment ", i, " gone"), gone, i < 4)
	}
	_, err = fs.read(place{places[4].file, 1000, 10}, nil)
	equal(t, "read past the end", err, errBadSegment)
}

// TestSegmentsLiveInFiles: on disk, segment values are a few bytes in
// Badger, the exchanges in segment files that retention deletes oldest
// first, while every kept exchange reads back.
func TestSegmentsLiveInFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := openLog(t, dir)
	defer db.Close()
	rec := New(db, WithLimit(30))
	defer rec.Close()
	rec.segs.files.fileSize = 1 // a file per batch
	h := rec.Wrap(okHandler())
	for range 20 {
		sendN(h, 10)
		rec.Flush()
	}
	equal(t, "count", rec.Count(), 30)
	listed := mustList(t, rec)
	equal(t, "listed", len(listed), 30)
	for _, ex := range listed {
		if _, found, err := rec.Get(ex.ID, false); !found || err != nil {
			t.Errorf("get %s: found %v, %v", ex.ID, found, err)
		}
	}
	// Every segment key but the hidden exchanges' points into a file.
	equal(t, "stored", len(storedEntries(t, rec)) >= 30, true)
	files := segmentFileNames(t, dir)
	if len(files) < 3 || len(files) > 4 {
		t.Errorf("segment files %v; want the three or four batches that hold the last 30 exchanges", files)
	}
	if files[0] == segmentFileName(0) {
		t.Errorf("the first file is still there: %v", files)
	}
}

// TestSegmentFilesAtStart: a restart reads the kept exchanges from their
// files and deletes files no segment lies in.
func TestSegmentFilesAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := openLog(t, dir)
	rec := New(db, WithLimit(50))
	sendN(rec.Wrap(okHandler()), 20)
	before := ids(t, rec)
	rec.Close()
	equal(t, "close", db.Close(), nil)
	orphan := filepath.Join(dir, segmentFilesDir, segmentFileName(1<<20))
	if err := os.WriteFile(orphan, []byte("left by a crash"), 0o644); err != nil {
		t.Fatal(err)
	}

	again := reopenLog(t, dir)
	equal(t, "write errors", again.Stats().WriteErrors, uint64(0))
	equal(t, "listed after a restart", fmt.Sprint(ids(t, again)), fmt.Sprint(before))
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file no segment lies in is still there: %v", err)
	}
	sendN(again.Wrap(okHandler()), 5)
	equal(t, "count", again.Count(), 25)
}

// TestMissingSegmentFile: segments whose file was deleted by hand are
// forgotten at the start, not counted.
func TestMissingSegmentFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := openLog(t, dir)
	rec := New(db, WithLimit(50))
	rec.segs.files.fileSize = 1 // a file per batch
	h := rec.Wrap(okHandler())
	sendN(h, 4)
	rec.Flush()
	sendN(h, 3)
	rec.Close()
	equal(t, "close", db.Close(), nil)
	files := segmentFileNames(t, dir)
	equal(t, "segment files", len(files), 2)
	if err := os.Remove(filepath.Join(dir, segmentFilesDir, files[0])); err != nil {
		t.Fatal(err)
	}

	again := reopenLog(t, dir)
	equal(t, "count", again.Count(), 3)
	equal(t, "listed", len(mustList(t, again)), 3)
	equal(t, "segment keys", len(segmentKeys(t, again)), 1)
}

// TestSegmentsStoredInBadgerStillRead: a request log written before
// segment files (its segments in Badger) reads on, and new segments go
// to files beside them.
func TestSegmentsStoredInBadgerStillRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := openLog(t, dir)
	old := New(db, WithLimit(50))
	old.segs.files.close()
	old.segs.files = nil // as the recorder did before segment files
	sendN(old.Wrap(okHandler()), 8)
	old.Close()
	equal(t, "close", db.Close(), nil)

	rec := reopenLog(t, dir)
	sendN(rec.Wrap(okHandler()), 4)
	equal(t, "count", rec.Count(), 12)
	equal(t, "listed", len(mustList(t, rec)), 12)
	equal(t, "segment files", len(segmentFileNames(t, dir)), 1)
}

// TestClearDeletesSegmentFiles: Clear leaves no segment file behind.
func TestClearDeletesSegmentFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := openLog(t, dir)
	defer db.Close()
	rec := New(db)
	defer rec.Close()
	sendN(rec.Wrap(okHandler()), 10)
	rec.Flush()
	if err := rec.Clear(); err != nil {
		t.Fatal(err)
	}
	equal(t, "segment files", len(segmentFileNames(t, dir)), 0)
	sendN(rec.Wrap(okHandler()), 3)
	equal(t, "listed", len(mustList(t, rec)), 3)
}
