package recorder

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// bigAnswer is a large JSON answer with a password field and a marker.
func bigAnswer(marker string) string {
	return `{"stat":"ok","marker":"` + marker + `","newPassword":"` + pwBig + `","items":[` +
		strings.Repeat(`{"name":"a field of the flow","type":"text"},`, 30) + `{}]}`
}

// blobKeys counts the blobs stored, by epoch.
func blobKeys(t *testing.T, rec *Recorder) map[string]int {
	t.Helper()
	rec.Flush()
	epochs := map[string]int{}
	err := rec.db.Badger().View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(keyBlob)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			epoch, _, _ := strings.Cut(string(it.Item().Key()[len(keyBlob):]), "/")
			epochs[epoch]++
			err := it.Item().Value(func(v []byte) error {
				lacks(t, "blob", string(storedText(&rec.segs, it.Item().Key(), v)), pwBig)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return epochs
}

func TestRepeatedBodiesAreStoredOnce(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	b := newBackend()
	b.script("/oauth/register_native", bigAnswer("repeated-marker"))
	h := rec.Wrap(b.router)
	events, cancel := rec.Subscribe()
	defer cancel()
	const n = 5
	for range n {
		call{path: "/oauth/register_native", contentType: formType, body: "firstName=Jane"}.send(h)
	}
	want := maskBody(bigAnswer("repeated-marker"), "application/json", passwords)
	lacks(t, "the stored answer", want, pwBig)
	page, err := rec.List(Query{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "listed", len(page.Exchanges), n)
	for _, ex := range page.Exchanges {
		equal(t, "body", ex.ResponseBody, want)
		got := mustGet(t, rec, ex.ID, true)
		equal(t, "body of Get", got.ResponseBody, want)
		flow, err := rec.Flow(ex.FlowID)
		if err != nil || len(flow) == 0 {
			t.Fatalf("Flow: %v, %v", flow, err)
		}
		equal(t, "body in its flow", flow[0].ResponseBody, want)
	}
	for range n {
		select {
		case ex := <-events:
			equal(t, "body of the event", ex.ResponseBody, want)
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
	}
	text, err := rec.List(Query{Text: "repeated-marker"})
	equal(t, "found by text", len(text.Exchanges), n)
	equal(t, "error", err, nil)
	har := mustHAR(t, page.Exchanges, false)
	equal(t, "bodies in the HAR", strings.Count(har, "repeated-marker"), n)
	equal(t, "one blob", len(blobKeys(t, rec)), 1)

	// The first is stored inline, the others refer to the blob.
	refs := 0
	for _, e := range storedEntries(t, rec) {
		if e.rec[0] == recordVersion && e.rec[1]&flagResponseBlob != 0 {
			refs++
		}
	}
	equal(t, "records referring to the blob", refs, n-1)

	if err := rec.Clear(); err != nil {
		t.Fatal(err)
	}
	equal(t, "blobs after Clear", len(blobKeys(t, rec)), 0)
	for range 2 {
		call{path: "/oauth/register_native", contentType: formType, body: "firstName=Jane"}.send(h)
	}
	equal(t, "a blob again", len(blobKeys(t, rec)), 1)
	equal(t, "body after Clear", newest(t, rec).ResponseBody, want)
}

// TestBlobsGoWithTheirEpoch: once every exchange of an epoch is trimmed,
// its blobs are deleted; those still referred to are kept, across a
// restart too.
func TestBlobsGoWithTheirEpoch(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	db := openDB(t)
	rec := New(db, WithClock(clock.Now), WithLimit(4))
	b := newBackend()
	h := rec.Wrap(b.router)
	send := func(marker string, times int) {
		b.script("/oauth/register_native", bigAnswer(marker))
		for range times {
			call{path: "/oauth/register_native", contentType: formType, body: "x=1"}.send(h)
		}
	}
	send("epoch-one", 3)
	equal(t, "blobs", len(blobKeys(t, rec)), 1)
	clock.Advance(blobEpoch)
	send("epoch-two", 2) // the limit keeps two of the first epoch
	equal(t, "count", rec.Count(), 4)
	equal(t, "blobs of two epochs", len(blobKeys(t, rec)), 2)
	page, _ := rec.List(Query{})
	equal(t, "oldest kept, from the first epoch", strings.Contains(page.Exchanges[3].ResponseBody, "epoch-one"), true)
	equal(t, "the other kept of the first epoch refers to the blob", page.Exchanges[2].ResponseBody, page.Exchanges[3].ResponseBody)

	send("epoch-two", 2) // the last two of the first epoch go
	equal(t, "blobs of the second epoch only", len(blobKeys(t, rec)), 1)
	for _, ex := range mustList(t, rec) {
		contains(t, "body", ex.ResponseBody, "epoch-two")
	}
	rec.Close()

	clock.Advance(blobEpoch)
	again := New(db, WithClock(clock.Now), WithLimit(4))
	defer again.Close()
	for _, ex := range mustList(t, again) {
		contains(t, "body after a restart", ex.ResponseBody, "epoch-two")
	}
	h = again.Wrap(b.router)
	b.script("/oauth/register_native", bigAnswer("epoch-three"))
	for range 4 {
		call{path: "/oauth/register_native", contentType: formType, body: "x=1"}.send(h)
	}
	epochs := blobKeys(t, again)
	equal(t, "blobs after the restart", len(epochs), 1)
	for _, ex := range mustList(t, again) {
		contains(t, "body", ex.ResponseBody, "epoch-three")
	}
	again.SetRetention(1, time.Nanosecond) // everything is too old
	equal(t, "count", again.Count(), 0)
	equal(t, "no blobs left", len(blobKeys(t, again)), 0)
}

func mustList(t *testing.T, rec *Recorder) []Exchange {
	t.Helper()
	page, err := rec.List(Query{Limit: MaxPage})
	if err != nil {
		t.Fatal(err)
	}
	return page.Exchanges
}

// TestRequestBodiesAreBlobsToo: a large request body repeated, as a load
// test sends it, is stored once too, and replays as sent.
func TestRequestBodiesAreBlobsToo(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	b := newBackend()
	h := rec.Wrap(b.router)
	body := `{"data":"` + strings.Repeat("0123456789abcdef", 64) + `","client_secret":"` + secret + `"}`
	for range 3 {
		call{path: "/oauth/custom-registration/ExampleId/init", contentType: "application/json", body: body,
			header: http.Header{"Authorization": {"Bearer " + bearer}}}.send(h)
	}
	equal(t, "one blob", len(blobKeys(t, rec)), 1)
	ex := newest(t, rec)
	lacks(t, "masked", ex.RequestBody, secret)
	resp, err := rec.Replay(ex, h)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	equal(t, "replayed as sent", b.lastBody(), body)
}
