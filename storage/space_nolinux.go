//go:build !linux

package storage

import "errors"

// allocate cannot back a file's holes here: the guard then counts them
// as space the disk must keep free.
func allocate(string, int64) error { return errors.New("cannot allocate file blocks on this system") }
