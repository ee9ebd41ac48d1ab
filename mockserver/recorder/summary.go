package recorder

import (
	"encoding/binary"
	"math"
	"sync"
	"time"
)

// The summary record is a small binary encoding, stored apart from the
// full exchange (ahead of the records in its segment), so lists and
// filters over many exchanges decode a few dozen bytes each:
//
//	version byte, time (int64 ns), duration (float64 bits), status (uvarint),
//	then method, path, endpoint, outcome, flow id (uvarint length + bytes).
//
// The ID is in the segment's index. The flow ID comes last, so a flow's
// scan reads it without parsing the rest (see [summaryFlow]).
const summaryVersion = 2

// appendSummary appends the summary of f but its flow ID, which comes
// last: the writer adds it once the exchange is linked.
func appendSummary(b []byte, f *recordFields) []byte {
	b = append(b, summaryVersion)
	b = binary.LittleEndian.AppendUint64(b, uint64(f.timeNS))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f.duration))
	b = binary.AppendUvarint(b, uint64(f.status))
	for _, s := range [...]string{f.method, f.path, f.endpoint, f.outcome} {
		b = appendString(b, s)
	}
	return b
}

// finishSummary appends the flow ID to a summary.
func finishSummary(b []byte, flow xid) []byte {
	b = binary.AppendUvarint(b, idLen)
	return appendID(b, flow)
}

// summaryView reads a summary record in place, without allocating; its
// slices are only valid while the record is.
type summaryView struct {
	timeNS   int64
	duration float64
	status   int
	method   []byte
	path     []byte
	endpoint []byte
	outcome  []byte
	flow     []byte
}

func parseSummary(b []byte) (summaryView, bool) {
	var v summaryView
	if len(b) < 17 || b[0] != summaryVersion {
		return v, false
	}
	v.timeNS = int64(binary.LittleEndian.Uint64(b[1:]))
	v.duration = math.Float64frombits(binary.LittleEndian.Uint64(b[9:]))
	status, n := binary.Uvarint(b[17:])
	if n <= 0 {
		return v, false
	}
	v.status = int(status)
	rest := b[17+n:]
	for _, dst := range [...]*[]byte{&v.method, &v.path, &v.endpoint, &v.outcome, &v.flow} {
		l, n := binary.Uvarint(rest)
		if n <= 0 || uint64(len(rest)-n) < l {
			return v, false
		}
		*dst, rest = rest[n:n+int(l)], rest[n+int(l):]
	}
	return v, true
}

// summaryFlow is the flow ID at the end of a summary, nil when there is
// none there.
func summaryFlow(b []byte) []byte {
	if len(b) < 18+idLen || b[0] != summaryVersion || b[len(b)-idLen-1] != idLen {
		return nil
	}
	return b[len(b)-idLen:]
}

// summary materializes the view. Values that repeat across exchanges
// (methods, paths, endpoints, outcomes) are interned, and a flow id equal
// to the exchange id shares its string, so a page allocates little.
func (v *summaryView) summary(id string) Summary {
	flow := id
	if string(v.flow) != id {
		flow = string(v.flow)
	}
	return Summary{ID: id, Time: time.Unix(0, v.timeNS).UTC(), Method: intern(v.method), Path: intern(v.path),
		Endpoint: intern(v.endpoint), Status: v.status, Outcome: intern(v.outcome), DurationMS: v.duration, FlowID: flow}
}

// internLimit bounds the intern table; past it strings are simply copied.
const internLimit = 4096

var interned = struct {
	sync.RWMutex
	m map[string]string
}{m: map[string]string{}}

func intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	interned.RLock()
	s, ok := interned.m[string(b)]
	interned.RUnlock()
	if ok {
		return s
	}
	s = string(b)
	interned.Lock()
	if len(interned.m) < internLimit {
		interned.m[s] = s
	}
	interned.Unlock()
	return s
}
