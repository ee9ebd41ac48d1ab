package storage

import (
	"os"

	"golang.org/x/sys/unix"
)

// allocate gives the file its disk blocks up to size without changing its
// contents: what Badger writes through its map can then never fault.
func allocate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Fallocate(int(f.Fd()), 0, 0, size)
}
