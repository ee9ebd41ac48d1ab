package recorder

import (
	"encoding/json"
	"hash/maphash"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	big := `{"items":[` + strings.Repeat(`{"name":"a value that repeats","n":1},`, 40) + `{}]}`
	id, flow := xid{1_700_000_000_123_456_789, 7}, xid{1_700_000_000_000_000_000, 2}
	cases := []struct {
		name       string
		f          recordFields
		flow       xid
		compressed bool
	}{
		{"small, own flow", recordFields{method: "GET", url: "/x?a=1", path: "/x", status: 200,
			outcome: OutcomeOK}, id, false},
		{"everything", recordFields{timeNS: id.ns, duration: 12.5, status: 400,
			method: "POST", url: "/oauth/token?x=1", path: "/oauth/token", host: "example.test", remote: "1.2.3.4:5",
			proto: "HTTP/1.1", reqHeader: []string{"Content-Type", formType, "Accept", "a", "Accept", "b", "X-Password", "p"},
			respHeader: []string{"Set-Cookie", "s=1"}, reqBody: []byte("grant_type=x"), respBody: []byte(big),
			reqTruncated: true, respTruncated: true, endpoint: "capture.token", fault: "rule-1", outcome: OutcomeFault,
			script: &ScriptNote{Slot: "init", IdP: "ExampleId", Status: -5, Cost: 99, Error: "boom"}}, flow, true},
		{"incompressible", recordFields{respBody: []byte(randomText(2000))}, id, false},
		{"path apart from the URL", recordFields{url: "/a%2Fb?x=1", path: "/a/b/c"}, id, false},
		{"escaped path", recordFields{url: "/a%20b%2Fc?x=%20", path: "/a b/c"}, id, false},
		{"opaque", recordFields{url: "*", path: ""}, id, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw := encodeRecord(&tc.f, id, tc.flow)
			equal(t, "compressed", raw[1]&flagResponseCompressed != 0, tc.compressed)
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
			if tc.compressed {
				contains(t, "searchable", string(searchable(raw, nil, nil)), "a value that repeats")
			}
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
	var buf []byte
	req, resp := storeBody(f.reqBody, &buf, &seeds), storeBody(f.respBody, &buf, &seeds)
	raw = appendBody(raw, 0, &req, flagRequestCompressed)
	raw = appendBody(raw, 0, &resp, flagResponseCompressed)
	return finishRecord(raw, 0, id, flow)
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

// TestLegacyRecords reads exchanges stored as JSON, as earlier versions
// wrote them, next to new ones.
func TestLegacyRecords(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	old := Exchange{ID: formatID(time.Now().Add(-time.Minute).UnixNano(), 0), Time: time.Now().UTC(), Method: "POST",
		URL: "/oauth/token", Path: "/oauth/token", RequestHeaders: map[string][]string{"Content-Type": {formType}},
		RequestBody: "code=legacy-code-1&grant_type=authorization_code", Form: map[string][]string{"code": {"legacy-code-1"},
			"grant_type": {"authorization_code"}}, Status: 200, Outcome: OutcomeOK, Endpoint: "capture.token"}
	old.FlowID = old.ID
	raw, _ := json.Marshal(old)
	sum := finishSummary(appendSummary(nil, &recordFields{timeNS: old.Time.UnixNano(), status: 200, method: "POST",
		path: old.Path, endpoint: old.Endpoint, outcome: OutcomeOK}), mustParseID(t, old.ID))
	sum[0] = 1 // version 1: every exchange is in the flow index
	err := db.Badger().Update(func(txn *badger.Txn) error {
		for k, v := range map[string][]byte{keyFull + old.ID: raw, keySummary + old.ID: sum, flowKey(old.ID, old.ID): nil} {
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
	t.Cleanup(func() { rec.Close() })
	call{path: "/oauth/token", contentType: formType, body: "code=new-code-2"}.send(rec.Wrap(okHandler()))
	equal(t, "count", rec.Count(), 2)
	got := mustGet(t, rec, old.ID, false)
	equal(t, "legacy body masked", got.RequestBody, "code=***&grant_type=authorization_code")
	equal(t, "legacy form masked", got.Form["code"][0], Mask)
	revealed := mustGet(t, rec, old.ID, true)
	equal(t, "legacy form", revealed.Form["code"][0], "legacy-code-1")
	page, err := rec.List(Query{Text: "grant_type=authorization", Reveal: true})
	if err != nil || len(page.Exchanges) != 1 {
		t.Fatalf("text search over a legacy record: %d, %v", len(page.Exchanges), err)
	}
	flow, err := rec.Flow(old.ID)
	equal(t, "legacy flow", len(flow), 1)
	equal(t, "error", err, nil)

	rec.SetRetention(1, 0)
	equal(t, "count after trimming", rec.Count(), 1)
	err = db.Badger().View(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte(flowKey(old.ID, old.ID)))
		equal(t, "legacy index entry deleted", err, badger.ErrKeyNotFound)
		return nil
	})
	equal(t, "error", err, nil)
}

func mustParseID(t *testing.T, id string) xid {
	t.Helper()
	ns, ok := idNanos(id)
	if !ok {
		t.Fatalf("bad id %q", id)
	}
	return xid{ns: ns}
}
