package recorder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// A request log on disk keeps the values of its segments in files of the
// recorder's own, in the directory [segmentFilesDir] of its Badger
// directory, which Badger leaves alone: each segment key's value is then
// only where the segment lies, a few bytes that stay in Badger's tree.
//
// Why not in Badger's value log: Badger writes it through a shared memory
// map, so every page it grows by takes a page fault, and the msync that
// closes each file cleans every page with a TLB shootdown, an
// interrupt of the other cores. In the virtual machines the benchmarks
// run on that came to about 5 ns a stored byte on the writer's side and
// more on the cores it interrupted: one to two points of auth_native's
// recording cost (see docs/performance.md). The files are appended to
// with write(2), a batch at a time, and read with pread(2); the kernel
// writes them back without touching the server's page tables.
//
// Files are numbered in the order they were started and hold the
// segments of whole batches. Retention deletes a file once every segment
// in it is before the horizon; as batches are stored in the order they
// were taken in, that is the files from the oldest on. A crash may leave
// bytes that no key points at (a batch whose Badger write was lost) or a
// file no key points into; the start deletes the latter.
const segmentFilesDir = "segments"

// segmentFileSize is how large a file grows before the next batch starts
// another. Retention frees the disk a file at a time: a log of 100,000
// auth_native exchanges (15 MB) spans four.
const segmentFileSize = 4 << 20

// segmentExternal starts the value of a segment whose bytes are in a
// segment file: the byte, then the file's number, the offset and the
// length, as uvarints.
const segmentExternal = 3

// maxPlaceLen bounds the value of an external segment.
const maxPlaceLen = 1 + 3*binary.MaxVarintLen64

// errSegmentGone reports a segment whose file retention deleted.
var errSegmentGone = errors.New("recorder: segment file deleted")

// place is where a segment's bytes lie.
type place struct {
	file     uint64
	off, len int64
}

func appendPlace(b []byte, p place) []byte {
	b = append(b, segmentExternal)
	b = binary.AppendUvarint(b, p.file)
	b = binary.AppendUvarint(b, uint64(p.off))
	return binary.AppendUvarint(b, uint64(p.len))
}

func parsePlace(v []byte) (place, bool) {
	if len(v) < 4 || len(v) > maxPlaceLen || v[0] != segmentExternal {
		return place{}, false
	}
	i := 1
	file, ok1 := uvarintAt(v, &i)
	off, ok2 := uvarintAt(v, &i)
	n, ok3 := uvarintAt(v, &i)
	if !ok1 || !ok2 || !ok3 || i != len(v) || off > 1<<40 || n == 0 || n > maxSegmentPlain {
		return place{}, false
	}
	return place{file: file, off: int64(off), len: int64(n)}, true
}

// segmentFiles are the segment files of a request log. The writer alone
// appends and deletes; readers read concurrently.
type segmentFiles struct {
	dir string
	// fileSize is segmentFileSize but in tests.
	fileSize int64
	mu       sync.RWMutex
	// files are the open files by number; cur is the one appended to.
	files map[uint64]*segmentFile
	cur   *segmentFile
	next  uint64
}

// segmentFile is one open file and the newest ID of a segment stored in
// it (the zero ID while it holds none).
type segmentFile struct {
	num    uint64
	f      *os.File
	size   int64
	newest xid
}

// openSegmentFiles opens the segment files in dir, creating it.
func openSegmentFiles(dir string) (*segmentFiles, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fs := &segmentFiles{dir: dir, fileSize: segmentFileSize, files: map[uint64]*segmentFile{}}
	for _, e := range names {
		num, ok := parseSegmentFileName(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			fs.close()
			return nil, err
		}
		fs.files[num] = &segmentFile{num: num, f: f}
		fs.next = max(fs.next, num+1)
	}
	return fs, nil
}

func segmentFileName(num uint64) string { return fmt.Sprintf("%016x.seg", num) }

func parseSegmentFileName(name string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, ".seg")
	if !ok || len(hex) != 16 {
		return 0, false
	}
	num, err := strconv.ParseUint(hex, 16, 64)
	return num, err == nil
}

// append writes b at the end of the current file, starting another when
// it is full, and returns where b starts.
func (fs *segmentFiles) append(b []byte) (file uint64, off int64, err error) {
	if fs.cur == nil || fs.cur.size >= fs.fileSize {
		if err := fs.start(); err != nil {
			return 0, 0, err
		}
	}
	cur := fs.cur
	n, err := cur.f.Write(b)
	if err != nil {
		// What the failed write left is no segment's; the next batch
		// starts a file of its own.
		cur.size += int64(n)
		fs.cur = nil
		return 0, 0, err
	}
	off = cur.size
	cur.size += int64(n)
	return cur.num, off, nil
}

// start opens the next file for appending.
func (fs *segmentFiles) start() error {
	num := fs.next
	f, err := os.OpenFile(filepath.Join(fs.dir, segmentFileName(num)), os.O_CREATE|os.O_EXCL|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fs.next++
	sf := &segmentFile{num: num, f: f}
	fs.mu.Lock()
	fs.files[num] = sf
	fs.mu.Unlock()
	fs.cur = sf
	return nil
}

// stored notes that file holds a segment whose newest ID is newest, and
// reports whether the file is there.
func (fs *segmentFiles) stored(file uint64, newest xid) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	sf := fs.files[file]
	if sf != nil && sf.newest.less(newest) {
		sf.newest = newest
	}
	return sf != nil
}

// read reads the bytes at p into dst's memory.
func (fs *segmentFiles) read(p place, dst []byte) ([]byte, error) {
	fs.mu.RLock()
	sf := fs.files[p.file]
	fs.mu.RUnlock()
	if sf == nil {
		return nil, errSegmentGone
	}
	b := slices.Grow(dst[:0], int(p.len))[:p.len]
	_, err := sf.f.ReadAt(b, p.off)
	switch {
	case errors.Is(err, os.ErrClosed):
		return nil, errSegmentGone // deleted while read
	case errors.Is(err, io.EOF):
		return nil, errBadSegment
	}
	return b, err
}

// dropBefore deletes the files whose segments are all before h: the
// newest segment of each is. The current file stays.
func (fs *segmentFiles) dropBefore(h xid) error {
	var drop []*segmentFile
	fs.mu.Lock()
	for num, sf := range fs.files {
		if sf != fs.cur && sf.newest.less(h) {
			drop = append(drop, sf)
			delete(fs.files, num)
		}
	}
	fs.mu.Unlock()
	return fs.remove(drop)
}

// dropUnused deletes the files no segment was noted in: at the start,
// those of segments deleted before a crash.
func (fs *segmentFiles) dropUnused() error { return fs.dropBefore(xid{0, 1}) }

// clear deletes every file.
func (fs *segmentFiles) clear() error {
	fs.mu.Lock()
	drop := make([]*segmentFile, 0, len(fs.files))
	for _, sf := range fs.files {
		drop = append(drop, sf)
	}
	clear(fs.files)
	fs.cur = nil
	fs.mu.Unlock()
	return fs.remove(drop)
}

func (fs *segmentFiles) remove(drop []*segmentFile) error {
	var errs []error
	for _, sf := range drop {
		sf.f.Close()
		if err := os.Remove(sf.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// close closes every file; reads fail as if the segments were deleted.
func (fs *segmentFiles) close() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, sf := range fs.files {
		sf.f.Close()
	}
	fs.cur = nil
}
