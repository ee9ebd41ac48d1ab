//go:build linux || darwin || freebsd

package storage

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// diskFree is the space an unprivileged process may still use on the
// filesystem holding path.
func diskFree(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

// holeBytes is how much of the file is not allocated on disk yet.
func holeBytes(info os.FileInfo) uint64 {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0
	}
	allocated := uint64(st.Blocks) * 512
	if size := uint64(info.Size()); size > allocated {
		return size - allocated
	}
	return 0
}
