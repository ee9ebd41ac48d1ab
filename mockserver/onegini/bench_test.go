package onegini_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"

	"regsandbox/storage"
)

// The benchmarks below drive the handlers directly, as
// BenchmarkBackchannelSeed does, one registration journey per op. They use
// the public API only, so the same file measures the back end before and
// after a change.

// benchRouter serves a back end on a fresh in-memory database; close
// drops the database.
func benchRouter(b *testing.B) (r *mux.Router, close func()) {
	b.Helper()
	db, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	r = mux.NewRouter()
	newBackend(b, db).Routes(r)
	return r, func() { db.Close() }
}

// benchPost sends one request and returns the decoded answer, failing
// the benchmark on anything but HTTP 200 with the wanted status.
func benchPost(b *testing.B, h http.Handler, path, user, pass, body string, status int) map[string]any {
	answer, err := post(h, path, user, pass, body, status)
	if err != nil {
		b.Fatal(err)
	}
	return answer
}

// post is benchPost for goroutines other than the benchmark's.
func post(h http.Handler, path, user, pass, body string, status int) (map[string]any, error) {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.SetBasicAuth(user, pass)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var answer map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &answer) != nil || answer["status"] != float64(status) {
		return nil, fmt.Errorf("%s answered %d %s, want status %d", path, rec.Code, rec.Body, status)
	}
	return answer, nil
}

// twoStep runs one two-step registration: init opens a transaction,
// complete uses it up.
func twoStep(h http.Handler) error {
	a, err := post(h, initPath("ExampleId"), appID, appSecret, `{"data":"hello"}`, 2000)
	if err != nil {
		return err
	}
	_, err = post(h, completePath("ExampleId"), appID, appSecret,
		`{"transaction_id":"`+a["transaction_id"].(string)+`","data":`+jsonString(`{"userId":"u-42"}`)+`,"scope":["profile"]}`, 2000)
	return err
}

// qrBody is the QR backchannel's request for a user.
func qrBody(user string) string {
	return `{"data":` + jsonString(`{"userId":"`+user+`"}`) + `}`
}

// BenchmarkBackchannelSeedParallel is the seed request from concurrent
// clients, where every storage transaction the request takes competes
// with the others'.
func BenchmarkBackchannelSeedParallel(b *testing.B) {
	r, close := benchRouter(b)
	defer close()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodPost, backchannelPath("ExampleId"), nil)
		req.SetBasicAuth(apiID, apiSecret)
		req.Header.Set("Content-Type", "application/json")
		for pb.Next() {
			req.Body = bodyOf(seedBody)
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Body.String() != seedResponse {
				b.Errorf("answer %d %s", rec.Code, rec.Body)
				return
			}
		}
	})
}

// BenchmarkQRFlow is the QR-code journey, one op being a backchannel
// that stores a code and the complete that uses it up, with an IdP cache
// already holding other users' codes. complete asks for the profile
// scope only, so no id_token signature dominates the figures.
//
// Every used-up code leaves a deletion marker that each later scan of the
// cache steps over, so a long run would measure the markers more than the
// back end: the database starts afresh every opsPerDB ops, off the clock.
func BenchmarkQRFlow(b *testing.B) {
	const opsPerDB = 500
	for _, entries := range []int{0, 1000} {
		b.Run("cache="+strconv.Itoa(entries), func(b *testing.B) {
			var r *mux.Router
			close := func() {}
			defer func() { close() }()
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if i%opsPerDB == 0 {
					b.StopTimer()
					close()
					r, close = benchRouter(b)
					for j := range entries {
						benchPost(b, r, backchannelPath("QrCodeIdp"), apiID, apiSecret, qrBody("u-"+strconv.Itoa(j)), 2000)
					}
					b.StartTimer()
				}
				code := benchPost(b, r, backchannelPath("QrCodeIdp"), apiID, apiSecret, qrBody("u-bench"), 2000)["data"].(string)
				benchPost(b, r, completePath("QrCodeIdp"), appID, appSecret,
					`{"data":`+jsonString(code)+`,"scope":["profile"]}`, 2000)
			}
		})
	}
}

// BenchmarkQRUnknownCode is a complete with a code that is not in the
// cache: the script reads the cache and writes nothing.
func BenchmarkQRUnknownCode(b *testing.B) {
	r, close := benchRouter(b)
	defer close()
	b.ReportAllocs()
	for b.Loop() {
		benchPost(b, r, completePath("QrCodeIdp"), appID, appSecret, `{"data":"no-such-code"}`, 5000)
	}
}

// BenchmarkTwoStep is the two-step journey: init opens a transaction,
// complete uses it up.
func BenchmarkTwoStep(b *testing.B) {
	r, close := benchRouter(b)
	defer close()
	b.ReportAllocs()
	for b.Loop() {
		if err := twoStep(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBackchannelSeedUnderWrites is the seed request from concurrent
// clients while others register through init and complete, on disk with
// every commit synced, as the binary opens its database: Badger makes each
// new transaction wait for the commits in flight. It reports no
// allocations, as the writers' would count too.
func BenchmarkBackchannelSeedUnderWrites(b *testing.B) {
	db, err := storage.Open(storage.Options{Dir: b.TempDir(), SyncWrites: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r := mux.NewRouter()
	newBackend(b, db).Routes(r)
	stop := make(chan struct{})
	var writers sync.WaitGroup
	for range 4 {
		writers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := twoStep(r); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	defer func() {
		close(stop)
		writers.Wait()
	}()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := post(r, backchannelPath("ExampleId"), apiID, apiSecret, seedBody, 2000); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
