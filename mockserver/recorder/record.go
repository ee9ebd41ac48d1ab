package recorder

import (
	"encoding/binary"
	"errors"
	"hash/maphash"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"
)

// The full record of an exchange is a compact binary encoding:
//
//	version byte, flags (uint16), time (varint ns), duration (float64
//	bits), status (uvarint), method, URL, path, host, remote address,
//	proto, request headers, response headers, endpoint, fault, outcome,
//	[script note], request body, response body, [flow id]
//
// where a string is a uvarint length and its bytes, and headers are a
// uvarint count of names, then (when there are any) of values, and each
// name with a uvarint count of its values. The ID is in the index of its
// segment (see segment.go).
//
// It replaces a JSON document that held the decoded form or JSON body
// next to the body itself, escaped every quote of a JSON body and took
// encoding/json's reflection to write and read: records were three times
// the size, and writing and reading them was most of the cost of a list.
// The form and JSON are decoded again from the stored body on read (see
// [deriveRequest]); being read from the masked body, they are masked as
// before.
//
// Everything done with a record (encoding, compressing, writing it to a
// segment file; in memory, Badger's memtables and tables) costs by the
// byte, so records are kept small:
//
//   - Segments are stored compressed (see segment.go), bodies and all:
//     compressing each body on its own, as records once did, compressed
//     less and cost a second pass. Records written then hold bodies
//     compressed by themselves (flagRequestCompressed and
//     flagResponseCompressed), which readers still decompress.
//   - A body of [blobMin] bytes or more that repeats (the same flow
//     document, the same error) is stored once per epoch of the exchange
//     IDs as a blob, compressed, and the record holds its epoch and
//     hash; see [blobCache].
//
// The bodies and the flow come last, and the flags have a fixed place,
// because only the writer decides them, one exchange after the other:
// everything before can be encoded earlier (see [Recorder.prepare]).
const recordVersion = 2

const (
	flagRequestTruncated = 1 << iota
	flagResponseTruncated
	flagScript
	flagOwnFlow // the flow ID is the exchange's own ID
	flagRequestCompressed
	flagResponseCompressed
	flagRequestBlob
	flagResponseBlob
	flagPathFromURL // the path is the URL's, unescaped: not stored
)

// blobMin is the size from which bodies may be stored as blobs.
const blobMin = 512

// recordFields is what the writer stores of one exchange, masked.
type recordFields struct {
	timeNS         int64
	duration       float64
	status         int
	method, url    string
	path, host     string
	remote, proto  string
	reqHeader      []string // name, value pairs, grouped by name
	respHeader     []string
	reqBody        []byte
	respBody       []byte
	reqTruncated   bool
	respTruncated  bool
	endpoint       string
	fault, outcome string
	script         *ScriptNote
}

func appendString[S ~string | ~[]byte](b []byte, s S) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendRecordHead appends the record of f up to its bodies. Values of
// headers whose name holds "password" are masked on the way.
func appendRecordHead(b []byte, f *recordFields) []byte {
	var flags uint16
	if f.reqTruncated {
		flags |= flagRequestTruncated
	}
	if f.respTruncated {
		flags |= flagResponseTruncated
	}
	if f.script != nil {
		flags |= flagScript
	}
	pathFromURL := pathOf(f.url) == f.path
	if pathFromURL {
		flags |= flagPathFromURL
	}
	b = append(b, recordVersion)
	b = binary.LittleEndian.AppendUint16(b, flags)
	b = binary.AppendVarint(b, f.timeNS)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f.duration))
	b = binary.AppendUvarint(b, uint64(f.status))
	b = appendString(b, f.method)
	b = appendString(b, f.url)
	if !pathFromURL {
		b = appendString(b, f.path)
	}
	for _, s := range [...]string{f.host, f.remote, f.proto} {
		b = appendString(b, s)
	}
	b = appendHeaders(b, f.reqHeader)
	b = appendHeaders(b, f.respHeader)
	for _, s := range [...]string{f.endpoint, f.fault, f.outcome} {
		b = appendString(b, s)
	}
	if s := f.script; s != nil {
		b = appendString(b, s.Slot)
		b = appendString(b, s.IdP)
		b = binary.AppendVarint(b, int64(s.Status))
		b = binary.AppendUvarint(b, s.Cost)
		b = appendString(b, s.Error)
	}
	return b
}

// pathOf is the path of a path-and-query, unescaped: what the path of
// the request is, unless the request said otherwise.
func pathOf(u string) string {
	p, _, _ := strings.Cut(u, "?")
	if strings.IndexByte(p, '%') < 0 {
		return p
	}
	if unescaped, err := url.PathUnescape(p); err == nil {
		return unescaped
	}
	return "\x00" // no path is that
}

// setFlags sets flags in the record that starts at b[start:].
func setFlags(b []byte, start int, flags uint16) {
	binary.LittleEndian.PutUint16(b[start+1:], binary.LittleEndian.Uint16(b[start+1:])|flags)
}

// storedBody is a body as a record holds it. A body large enough to be
// a blob has its hash.
type storedBody struct {
	data []byte
	blob bool
	hash blobHash
}

// storeBody prepares body for a record: hashed when it is large enough
// to be a blob. Its data is body itself, which may lie in the encoder's
// scratch: [Recorder.appendEntry] copies it before the next exchange is
// prepared.
func storeBody(body []byte, seeds *[2]maphash.Seed) storedBody {
	sb := storedBody{data: body}
	if len(body) >= blobMin {
		sb.blob = true
		sb.hash = hashBody(seeds, body)
	}
	return sb
}

// appendBody appends a body inline.
func appendBody(b []byte, sb *storedBody) []byte { return appendString(b, sb.data) }

// appendBlobRef appends a reference to a body stored as a blob.
func appendBlobRef(b []byte, start int, id blobID, blobFlag uint16) []byte {
	setFlags(b, start, blobFlag)
	b = binary.AppendUvarint(b, uint64(id.epoch))
	b = binary.LittleEndian.AppendUint64(b, id.hash[0])
	return binary.LittleEndian.AppendUint64(b, id.hash[1])
}

// finishRecord ends the record that starts at b[start:] with the flow of
// exchange id.
func finishRecord(b []byte, start int, id, flow xid) []byte {
	if flow == id {
		setFlags(b, start, flagOwnFlow)
		return b
	}
	b = binary.AppendUvarint(b, idLen)
	return appendID(b, flow)
}

// appendHeaders writes name, value pairs as names with their values,
// masking the values of names that hold "password" for good, as the
// masking rule for passwords says.
func appendHeaders(b []byte, pairs []string) []byte {
	names := 0
	for i := 0; i < len(pairs); i += 2 {
		if i == 0 || pairs[i] != pairs[i-2] {
			names++
		}
	}
	b = binary.AppendUvarint(b, uint64(names))
	if names == 0 {
		return b
	}
	b = binary.AppendUvarint(b, uint64(len(pairs)/2))
	for i := 0; i < len(pairs); {
		name := pairs[i]
		n := 1
		for i+2*n < len(pairs) && pairs[i+2*n] == name {
			n++
		}
		b = appendString(b, name)
		b = binary.AppendUvarint(b, uint64(n))
		mask := passwords.masks(name, true)
		for j := range n {
			if mask {
				b = appendString(b, Mask)
			} else {
				b = appendString(b, pairs[i+2*j+1])
			}
		}
		i += 2 * n
	}
	return b
}

var errBadRecord = errors.New("recorder: malformed record")

// decodeRecord reads the stored record of exchange id into ex, with the
// form and JSON of the request derived from its body. blobs reads the
// bodies stored as blobs.
func decodeRecord(id string, raw []byte, ex *Exchange, blobs *blobReader) error {
	if err := decodeFields(id, raw, ex, blobs); err != nil {
		return err
	}
	deriveRequest(ex)
	return nil
}

// decodeFields reads a binary record without deriving anything. The
// strings of ex all share one copy of raw.
func decodeFields(id string, raw []byte, ex *Exchange, blobs *blobReader) error {
	if len(raw) < 3 || raw[0] != recordVersion {
		return errBadRecord
	}
	rd := recordReader{s: string(raw), raw: raw, i: 3}
	flags := binary.LittleEndian.Uint16(raw[1:])
	ns := rd.varint()
	*ex = Exchange{ID: id, Time: time.Unix(0, ns).UTC(), DurationMS: rd.float(), Status: int(rd.uvarint())}
	ex.Method, ex.URL = rd.str(), rd.str()
	if flags&flagPathFromURL != 0 {
		ex.Path = pathOf(ex.URL)
	} else {
		ex.Path = rd.str()
	}
	ex.Host, ex.RemoteAddr, ex.Proto = rd.str(), rd.str(), rd.str()
	ex.RequestHeaders = rd.headers()
	ex.ResponseHeaders = rd.headers()
	ex.Endpoint, ex.Fault, ex.Outcome = rd.str(), rd.str(), rd.str()
	if flags&flagScript != 0 {
		ex.Script = &ScriptNote{Slot: rd.str(), IdP: rd.str(), Status: int(rd.varint()), Cost: rd.uvarint(), Error: rd.str()}
	}
	ex.RequestBody = rd.body(flags&flagRequestBlob != 0, flags&flagRequestCompressed != 0, blobs)
	ex.ResponseBody = rd.body(flags&flagResponseBlob != 0, flags&flagResponseCompressed != 0, blobs)
	ex.RequestTruncated = flags&flagRequestTruncated != 0
	ex.ResponseTruncated = flags&flagResponseTruncated != 0
	ex.FlowID = id
	if flags&flagOwnFlow == 0 {
		ex.FlowID = rd.str()
	}
	if rd.bad || rd.i != len(raw) {
		return errBadRecord
	}
	return nil
}

// recordReader reads a record, as a string and as the bytes it was
// copied from; a read past its end sets bad.
type recordReader struct {
	s   string
	raw []byte
	i   int
	bad bool
}

func (r *recordReader) uvarint() uint64 {
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if r.i >= len(r.s) {
			break
		}
		c := r.s[r.i]
		r.i++
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
	r.bad = true
	return 0
}

func (r *recordReader) varint() int64 {
	u := r.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (r *recordReader) uint64() uint64 {
	if len(r.s)-r.i < 8 {
		r.bad = true
		return 0
	}
	u := binary.LittleEndian.Uint64(r.raw[r.i:])
	r.i += 8
	return u
}

func (r *recordReader) float() float64 { return math.Float64frombits(r.uint64()) }

func (r *recordReader) str() string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.s)-r.i) {
		r.bad = true
		return ""
	}
	s := r.s[r.i : r.i+int(n)]
	r.i += int(n)
	return s
}

// body reads a body: inline, or from its blob, decompressed when it was
// stored compressed.
func (r *recordReader) body(blob, compressed bool, blobs *blobReader) string {
	if blob {
		id := blobID{epoch: int64(r.uvarint())}
		id.hash = blobHash{r.uint64(), r.uint64()}
		if r.bad {
			return ""
		}
		return blobs.body(id)
	}
	s := r.str()
	if !compressed || r.bad {
		return s
	}
	body, ok := decompress(r.raw[r.i-len(s) : r.i])
	r.bad = r.bad || !ok
	return body
}

func decompress(src []byte) (string, bool) {
	if n, err := s2.DecodedLen(src); err != nil || n > maxDecodedBody {
		return "", false
	}
	dec, err := s2.Decode(nil, src)
	if err != nil {
		return "", false
	}
	return string(dec), true
}

// maxDecodedBody bounds what a damaged record may make the reader
// allocate; bodies are capped far below it.
const maxDecodedBody = 64 << 20

// searchable returns the bytes of a record in which text is looked for:
// the record itself, followed by its bodies when they are stored
// compressed or as blobs, appended to scratch.
func searchable(raw []byte, scratch []byte, blobs *blobReader) []byte {
	const stored = flagRequestCompressed | flagResponseCompressed | flagRequestBlob | flagResponseBlob
	if len(raw) < 3 || raw[0] != recordVersion || binary.LittleEndian.Uint16(raw[1:])&stored == 0 {
		return raw
	}
	var ex Exchange
	if decodeFields("", raw, &ex, blobs) != nil {
		return raw
	}
	scratch = append(scratch[:0], raw...)
	scratch = append(scratch, ex.RequestBody...)
	return append(scratch, ex.ResponseBody...)
}

func (r *recordReader) headers() map[string][]string {
	names := r.uvarint()
	if names == 0 || r.bad || names > uint64(len(r.s)-r.i) {
		r.bad = r.bad || names > uint64(len(r.s)-r.i)
		return nil
	}
	total := r.uvarint()
	if r.bad || total > uint64(len(r.s)-r.i) {
		r.bad = true
		return nil
	}
	h := make(map[string][]string, names)
	all := make([]string, total)
	for range names {
		name := r.str()
		n := r.uvarint()
		if r.bad || n > uint64(len(all)) {
			r.bad = true
			return nil
		}
		// Each name gets its part of one slice, capped, so that
		// appending to one never writes into another, as with
		// Header.Clone.
		vals := all[:n:n]
		all = all[n:]
		for j := range vals {
			vals[j] = r.str()
		}
		h[name] = vals
	}
	return h
}
