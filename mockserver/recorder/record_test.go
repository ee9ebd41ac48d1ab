package recorder

import (
	"hash/maphash"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/klauspost/compress/s2"
)

func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	big := `{"items":[` + strings.Repeat(`{"name":"a value that repeats","n":1},`, 40) + `{}]}`
	id, flow := xid{1_700_000_000_123_456_789, 7}, xid{1_700_000_000_000_000_000, 2}
	cases := []struct {
		name string
		f    recordFields
		flow xid
	}{
		{"small, own flow", recordFields{method: "GET", url: "/x?a=1", path: "/x", status: 200,
			outcome: OutcomeOK}, id},
		{"everything", recordFields{timeNS: id.ns, duration: 12.5, status: 400,
			method: "POST", url: "/oauth/token?x=1", path: "/oauth/token", host: "example.test", remote: "1.2.3.4:5",
			proto: "HTTP/1.1", reqHeader: []string{"Content-Type", formType, "Accept", "a", "Accept", "b", "X-Password", "p"},
			respHeader: []string{"Set-Cookie", "s=1"}, reqBody: []byte("grant_type=x"), respBody: []byte(big),
			reqTruncated: true, respTruncated: true, endpoint: "capture.token", fault: "rule-1", outcome: OutcomeFault,
			script: &ScriptNote{Slot: "init", IdP: "ExampleId", Status: -5, Cost: 99, Error: "boom"}}, flow},
		{"binary body", recordFields{respBody: []byte(randomText(2000))}, id},
		{"path apart from the URL", recordFields{url: "/a%2Fb?x=1", path: "/a/b/c"}, id},
		{"escaped path", recordFields{url: "/a%20b%2Fc?x=%20", path: "/a b/c"}, id},
		{"opaque", recordFields{url: "*", path: ""}, id},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw := encodeRecord(&tc.f, id, tc.flow)
			var ex Exchange
			if err := decodeRecord(id.String(), raw, &ex, nil); err != nil {
				t.Fatal(err)
			}
			want := Exchange{ID: id.String(), Time: time.Unix(0, tc.f.timeNS).UTC(), DurationMS: tc.f.duration,
				Method: tc.f.method, URL: tc.f.url, Path: tc.f.path, Host: tc.f.host, RemoteAddr: tc.f.remote,
				Proto: tc.f.proto, RequestHeaders: pairsToMap(tc.f.reqHeader), RequestBody: string(tc.f.reqBody),
				RequestTruncated: tc.f.reqTruncated, Status: tc.f.status, ResponseHeaders: pairsToMap(tc.f.respHeader),
				ResponseBody: string(tc.f.respBody), ResponseTruncated: tc.f.respTruncated, Endpoint: tc.f.endpoint,
				Fault: tc.f.fault, Script: tc.f.script, Outcome: tc.f.outcome, FlowID: tc.flow.String()}
			if want.RequestHeaders["X-Password"] != nil {
				want.RequestHeaders["X-Password"] = []string{Mask}
			}
			deriveRequest(&want)
			equal(t, "exchange", toJSON(t, ex), toJSON(t, want))
			if !ex.Time.Equal(want.Time) {
				t.Errorf("time %v, want %v", ex.Time, want.Time)
			}
			contains(t, "searchable", string(searchable(raw, nil, nil)), string(tc.f.respBody))
			// Appending to one header's values leaves the others alone.
			if vals := ex.RequestHeaders["Accept"]; vals != nil {
				_ = append(vals, "c")
				equal(t, "next header", ex.RequestHeaders["Content-Type"][0], formType)
			}
			for n := range raw {
				if decodeRecord("x", raw[:n], &Exchange{}, nil) == nil {
					t.Fatalf("a record cut at %d of %d bytes decodes", n, len(raw))
				}
			}
		})
	}
}

// encodeRecord is the record of f with its bodies inline.
func encodeRecord(f *recordFields, id, flow xid) []byte {
	raw := appendRecordHead(nil, f)
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	req, resp := storeBody(f.reqBody, &seeds), storeBody(f.respBody, &seeds)
	raw = appendBody(raw, &req)
	raw = appendBody(raw, &resp)
	return finishRecord(raw, 0, id, flow)
}

// TestRecordsWithCompressedBodiesDecode: records written before segments
// were compressed hold large bodies compressed each on its own; they
// still read as they were sent.
func TestRecordsWithCompressedBodiesDecode(t *testing.T) {
	t.Parallel()
	reqBody := `{"data":"` + strings.Repeat("request ", 100) + `"}`
	respBody := `{"stat":"ok","note":"` + strings.Repeat("answer ", 100) + `"}`
	f := recordFields{timeNS: 1, status: 200, method: "POST", url: "/oauth/api/v3/custom-registration/ExampleId/backchannel",
		path: "/oauth/api/v3/custom-registration/ExampleId/backchannel", proto: "HTTP/1.1",
		reqHeader:  []string{"Content-Type", "application/json"},
		respHeader: []string{"Content-Type", "application/json"}}
	raw := appendRecordHead(nil, &f)
	setFlags(raw, 0, flagRequestCompressed|flagResponseCompressed)
	raw = appendString(raw, s2.Encode(nil, []byte(reqBody)))
	raw = appendString(raw, s2.Encode(nil, []byte(respBody)))
	raw = finishRecord(raw, 0, xid{1, 0}, xid{1, 0})
	var ex Exchange
	if err := decodeRecord("x", raw, &ex, nil); err != nil {
		t.Fatal(err)
	}
	equal(t, "request body", ex.RequestBody, reqBody)
	equal(t, "response body", ex.ResponseBody, respBody)
	if !strings.Contains(string(searchable(raw, nil, nil)), "answer answer") {
		t.Error("the text of a compressed body is not searchable")
	}
}

func randomText(n int) string {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return string(b)
}

// TestLegacyLayoutIsDropped: exchanges stored a key each, as before
// segments, are deleted at start; what is recorded afterwards stays.
func TestLegacyLayoutIsDropped(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	old := xid{time.Now().Add(-time.Minute).UnixNano(), 0}
	f := recordFields{timeNS: old.ns, method: "POST", url: "/oauth/token", path: "/oauth/token", status: 200,
		endpoint: "capture.token", outcome: OutcomeOK}
	legacy := map[string][]byte{
		keyPrefix + "x/" + old.String():                      encodeRecord(&f, old, old),
		keyPrefix + "s/" + old.String():                      finishSummary(appendSummary(nil, &f), old),
		keyPrefix + "f/" + old.String() + "/" + old.String(): nil,
	}
	err := db.Badger().Update(func(txn *badger.Txn) error {
		for k, v := range legacy {
			if err := txn.Set([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := New(db)
	equal(t, "count", rec.Count(), 0)
	err = db.Badger().View(func(txn *badger.Txn) error {
		for k := range legacy {
			_, err := txn.Get([]byte(k))
			equal(t, k+" deleted", err, badger.ErrKeyNotFound)
		}
		return nil
	})
	equal(t, "error", err, nil)
	_, found, err := rec.Get(old.String(), false)
	equal(t, "found", found, false)
	equal(t, "error", err, nil)

	call{path: "/oauth/token", contentType: formType, body: "code=new-code-2"}.send(rec.Wrap(okHandler()))
	equal(t, "count", rec.Count(), 1)
	rec.Close()
	again := New(db)
	defer again.Close()
	equal(t, "count after a restart", again.Count(), 1)
	equal(t, "kept", newest(t, again).RequestBody, "code=***")
}
