package storage

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

type record struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPutGetDeleteList(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	for i, name := range []string{"b", "a", "c"} {
		if err := Store(db, "rec/"+name, record{Name: name, Count: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := Store(db, "other/x", record{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	got, found, err := Load[record](db, "rec/a")
	if err != nil || !found || got.Name != "a" || got.Count != 1 {
		t.Fatalf("Load = %+v %v %v", got, found, err)
	}
	var all []record
	err = db.View(func(tx *Tx) error {
		var err error
		all, err = List[record](tx, "rec/")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Name != "a" || all[2].Name != "c" {
		t.Fatalf("List = %+v", all)
	}
	var reversed []string
	err = db.View(func(tx *Tx) error {
		return tx.Scan("rec/", true, func(key string, _ []byte) error {
			reversed = append(reversed, key)
			return nil
		})
	})
	if err != nil || fmt.Sprint(reversed) != "[rec/c rec/b rec/a]" {
		t.Fatalf("reverse scan = %v %v", reversed, err)
	}
	if err := db.Update(func(tx *Tx) error { return tx.Delete("rec/a") }); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := Load[record](db, "rec/a"); found {
		t.Fatal("deleted record still found")
	}
}

// TestUpdateIsAtomic proves a read-check-write inside Update never lets two
// writers both see "free": the pattern unique e-mail addresses rely on.
func TestUpdateIsAtomic(t *testing.T) {
	t.Parallel()
	db := openTest(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errTaken := errors.New("taken")
			err := db.Update(func(tx *Tx) error {
				taken, err := tx.Has("unique/jane@example.com")
				if err != nil {
					return err
				}
				if taken {
					return errTaken
				}
				return tx.Put("unique/jane@example.com", record{Name: "jane"})
			})
			if err == nil {
				mu.Lock()
				created++
				mu.Unlock()
			} else if !errors.Is(err, errTaken) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if created != 1 {
		t.Fatalf("%d writers created the record, want 1", created)
	}
}

func TestOpenLockedDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, err = Open(Options{Dir: dir})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open error = %v, want ErrLocked", err)
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir, SyncWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := Store(db, "k", record{Name: "kept"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, found, err := Load[record](db, "k")
	if err != nil || !found || got.Name != "kept" {
		t.Fatalf("after reopen: %+v %v %v", got, found, err)
	}
}
