package storage

import (
	"bytes"
	"testing"
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
