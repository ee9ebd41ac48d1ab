package storage

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// benchUser is shaped like a Capture user record, the largest thing the
// request path writes.
type benchUser struct {
	UUID         string            `json:"uuid"`
	ID           uint64            `json:"id"`
	Created      time.Time         `json:"created"`
	Attributes   map[string]string `json:"attributes"`
	PasswordHash string            `json:"passwordHash"`
}

// benchKeys numbers keys uniquely across every benchmark of the run.
var benchKeys atomic.Int64

func newBenchUser(n int64) benchUser {
	id := strconv.FormatInt(n, 10)
	return benchUser{UUID: "0b6f4f8e-2c1e-4c55-9b1e-" + id, ID: uint64(n), Created: time.Unix(1_700_000_000, 0).UTC(),
		Attributes: map[string]string{"email": "user" + id + "@example.com", "givenName": "John",
			"familyName": "Doe", "displayName": "User" + id, "birthday": "1930-11-03"},
		PasswordHash: "$2a$04$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012"}
}

// openBench opens a fresh database: in memory, or on disk with
// synchronous writes as the binary opens it.
func openBench(b *testing.B, onDisk bool) *DB {
	b.Helper()
	opts := Options{InMemory: true}
	if onDisk {
		opts = Options{Dir: b.TempDir(), SyncWrites: true}
	}
	db, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// benchRegister writes what a registration writes: a read-check-write of two
// unique indexes and the record, in one transaction.
func benchRegister(db *DB, n int64) error {
	u := newBenchUser(n)
	return db.Update(func(tx *Tx) error {
		for _, key := range []string{"unique/email/" + u.Attributes["email"], "unique/displayName/" + u.Attributes["displayName"]} {
			if taken, err := tx.Has(key); err != nil || taken {
				return err
			}
			if err := tx.Put(key, u.UUID); err != nil {
				return err
			}
		}
		return tx.Put("user/"+u.UUID, u)
	})
}

// BenchmarkStore is one JSON record in its own transaction, in memory:
// the CPU cost of a write.
func BenchmarkStore(b *testing.B) {
	db := openBench(b, false)
	b.ReportAllocs()
	for b.Loop() {
		n := benchKeys.Add(1)
		if err := Store(db, "user/"+strconv.FormatInt(n, 10), newBenchUser(n)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad reads one JSON record back.
func BenchmarkLoad(b *testing.B) {
	db := openBench(b, false)
	if err := Store(db, "user/1", newBenchUser(1)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, found, err := Load[benchUser](db, "user/1"); err != nil || !found {
			b.Fatal(found, err)
		}
	}
}

// BenchmarkRegisterWrite is a registration's transaction in memory.
func BenchmarkRegisterWrite(b *testing.B) {
	db := openBench(b, false)
	b.ReportAllocs()
	for b.Loop() {
		if err := benchRegister(db, benchKeys.Add(1)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRegisterWriteSynced is the same on disk, one client at a time:
// every commit waits for its own fsync.
func BenchmarkRegisterWriteSynced(b *testing.B) {
	db := openBench(b, true)
	b.ReportAllocs()
	for b.Loop() {
		if err := benchRegister(db, benchKeys.Add(1)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRegisterWriteSyncedParallel is the same from 32 concurrent
// clients (on two CPUs): Badger groups their commits into one fsync, so
// 1e9 / ns/op is the synced writes per second the store sustains.
func BenchmarkRegisterWriteSyncedParallel(b *testing.B) {
	db := openBench(b, true)
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := benchRegister(db, benchKeys.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
