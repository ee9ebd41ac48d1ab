package recorder

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"maps"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The differential tests hold the single-pass writer to the recorder as
// it was (oracle_test.go): the same masks, outcomes and links for
// generated documents, valid and broken.

// jsonGen makes JSON documents full of what the recorder looks for.
type jsonGen struct{ r *rand.Rand }

var genKeys = []string{"password", "newPassword", "PASSWORD", `pass\u0077ord`, "paſsword", "token", "access_token",
	"refresh_token", "id_token", "Token", "code", "CODE", "authorization_code", "auth_code", "api_key", "apiKey",
	"client_secret", "client_assertion", "cookie", "authorization", "stat", "STAT", "ſtat", `st\u0061t`, "error",
	"Error", "data", "uuid", "email", "transaction_id", "emailAddress", "name", "value", "a", "", "x-y"}

var genStrings = []string{"", "ok", "error", `\u0065rror`, "abcd", "tok-12345678", "Jane@Example.COM", " spaced  ",
	`it's \"quoted\"`, `\n\t`, "é", "\xff\xfe", "6c1f1d0e-1b7a-4e8e-9d3f-2a9b8c7d6e5f", "needle-0001", "a b"}

func (g jsonGen) space() string {
	switch g.r.IntN(8) {
	case 0:
		return " "
	case 1:
		return "\n\t "
	}
	return ""
}

func (g jsonGen) value(depth int) string {
	n := 9
	if depth > 3 {
		n = 5
	}
	switch g.r.IntN(n) {
	case 0:
		return `"` + genStrings[g.r.IntN(len(genStrings))] + `"`
	case 1:
		return []string{"0", "-1", "12345678901234567890", "3.25", "1e5", "-0.5E-3"}[g.r.IntN(6)]
	case 2:
		return []string{"true", "false", "null"}[g.r.IntN(3)]
	case 3:
		// JSON in a string, as Onegini scripts send it.
		inner := g.value(depth + 1)
		enc, _ := json.Marshal(inner)
		if g.r.IntN(3) == 0 {
			enc, _ = json.Marshal(" " + inner)
		}
		return string(enc)
	case 4:
		return `"` + genStrings[g.r.IntN(len(genStrings))] + `"`
	case 5, 6:
		return g.object(depth + 1)
	default:
		var b strings.Builder
		b.WriteString("[" + g.space())
		for i := range g.r.IntN(4) {
			if i > 0 {
				b.WriteString("," + g.space())
			}
			b.WriteString(g.value(depth + 1))
		}
		b.WriteString(g.space() + "]")
		return b.String()
	}
}

// object makes an object whose keys are distinct once decoded:
// encoding/json keeps the last of repeated keys, and so linked only the
// values under it; the single pass links them all.
func (g jsonGen) object(depth int) string {
	var b strings.Builder
	b.WriteString("{" + g.space())
	keys := slices.Clone(genKeys)
	g.r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	seen := map[string]bool{}
	for i := range g.r.IntN(5) {
		var decoded string
		json.Unmarshal([]byte(`"`+keys[i]+`"`), &decoded)
		if seen[decoded] {
			continue
		}
		seen[decoded] = true
		if len(seen) > 1 {
			b.WriteString("," + g.space())
		}
		b.WriteString(`"` + keys[i] + `"` + g.space() + ":" + g.space() + g.value(depth))
	}
	b.WriteString(g.space() + "}")
	return b.String()
}

// doc makes a document, sometimes broken: cut, with something after it,
// or with a byte changed.
func (g jsonGen) doc() string {
	d := g.object(0)
	if g.r.IntN(6) == 0 {
		d = "[" + d + "," + g.value(1) + "]"
	}
	switch g.r.IntN(10) {
	case 0:
		d = d[:g.r.IntN(len(d)+1)]
	case 1:
		d += []string{"}", "]", " x", "{}", "\n"}[g.r.IntN(5)]
	case 2:
		b := []byte(d)
		chars := "{}[]\":,\\ a0-\x01"
		b[g.r.IntN(len(b))] = chars[g.r.IntN(len(chars))]
		d = string(b)
	}
	return g.space() + d
}

func TestScanIsJSONValid(t *testing.T) {
	t.Parallel()
	g := jsonGen{rand.New(rand.NewPCG(1+diffSeed, 2))}
	for range 20000 * diffScale {
		d := g.doc()
		checkScan(t, []byte(d))
	}
	for _, d := range []string{"", " ", "0", "-", "01", "1.", "1.e5", "-0", "1E+2", `"\u12"`, `"\x"`, "\"a\x01\"",
		"[1,]", "{,}", `{"a" 1}`, `{"a":1,}`, "tru", "nul", "[" + strings.Repeat("[", maxJSONDepth) + "]",
		strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth),
		strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1), `"abcdefghijklmnopq\"rs"`} {
		checkScan(t, []byte(d))
	}
}

func checkScan(t *testing.T, b []byte) {
	t.Helper()
	var s jsonScan
	s.reset(b, 0)
	if valid, _ := s.run(); valid != json.Valid(b) {
		t.Fatalf("scan says valid=%v, json.Valid says %v: %q", valid, !valid, b)
	}
	for _, ru := range []rule{passwords, secrets, everything} {
		got, gotOK := maskJSON(b, ru)
		want, wantOK := oldMaskJSON(b, ru)
		if gotOK != wantOK || string(got) != string(want) {
			t.Fatalf("maskJSON(%q, %d) = %q %v, want %q %v", b, ru, got, gotOK, want, wantOK)
		}
		for _, ct := range []string{"application/json", "", "text/plain", formType} {
			if got, want := maskBody(string(b), ct, ru), oldMaskBody(string(b), ct, ru); got != want {
				t.Fatalf("maskBody(%q, %q, %d) = %q, want %q", b, ct, ru, got, want)
			}
		}
	}
	for _, endpoint := range []string{"", "capture.token", "onegini.init"} {
		for _, status := range []int{200, 400} {
			ex := &Exchange{Endpoint: endpoint, Status: status, ResponseBody: string(b)}
			if got, want := outcomeOf(ex, false, false), oldOutcomeOf(ex, false, false); got != want {
				t.Fatalf("outcome of %q (%s %d) = %s, want %s", b, endpoint, status, got, want)
			}
		}
	}
}

func FuzzScan(f *testing.F) {
	g := jsonGen{rand.New(rand.NewPCG(3, 4))}
	for range 50 {
		f.Add([]byte(g.doc()))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkScan(t, b) })
}

func TestMaskQueryAsBefore(t *testing.T) {
	t.Parallel()
	for _, q := range []string{"", "&", "a", "a=1", "password=x", "a=1&password=x&b=2", "new%50assword=x&token=t",
		"%zzpassword=1", "token", "&&token=1&", "a;token=1", "x=1&client_secret=s&code=c"} {
		for _, ru := range []rule{passwords, secrets, everything} {
			equal(t, q, maskQuery(q, ru), oldMaskQuery(q, ru))
		}
	}
}

// genExchange makes a pending exchange with a generated request and
// answer.
func genExchange(g jsonGen, i int) *pending {
	p := &pending{id: xid{int64(i + 1), 0}, start: time.Unix(0, int64(i+1)*int64(time.Millisecond)),
		method: "POST", proto: "HTTP/1.1", status: []int{200, 200, 400, 0}[g.r.IntN(4)]}
	p.url = &url.URL{Path: "/oauth/x"}
	if g.r.IntN(2) == 0 {
		p.url.RawQuery = url.Values{"token": {"query-tok-" + fmt.Sprint(i%7)}, "locale": {"en"},
			"password": {"q"}, "data": {"qr-data-0123456789"}}.Encode()
	}
	p.notes.Endpoint = []string{"", "capture.auth_native", "onegini.complete", "onegini.init"}[g.r.IntN(4)]
	p.notes.Dropped = g.r.IntN(10) == 0
	switch g.r.IntN(3) {
	case 0:
		form := url.Values{}
		for range g.r.IntN(6) {
			k := genKeys[g.r.IntN(len(genKeys))]
			form.Add(strings.ReplaceAll(k, `\u0077`, "w"), genStrings[g.r.IntN(len(genStrings))])
		}
		form.Add("emailAddress", "Jane@Example.com")
		p.reqHeader = []string{"Content-Type", formType}
		p.reqBody = []byte(form.Encode())
	case 1:
		p.reqHeader = []string{"Content-Type", "application/json"}
		p.reqBody = []byte(g.doc())
	default:
		p.reqBody = []byte(g.doc())
	}
	p.reqHeader = append(p.reqHeader, "Authorization", "Bearer bearer-"+fmt.Sprint(i%5), "X-Password", "p")
	ct := []string{"application/json;charset=UTF-8", "", "text/plain", formType}[g.r.IntN(4)]
	if ct != "" {
		p.respHeader = []string{"Content-Type", ct}
	}
	p.respBody = []byte(g.doc())
	return withHeaderValues(p)
}

// TestWriterAsBefore runs generated exchanges through the writer and
// through the recorder as it was: what is stored, read back, and the
// links must be the same.
func TestWriterAsBefore(t *testing.T) {
	t.Parallel()
	rec := newTestRecorder(t)
	w := &writerState{}
	g := jsonGen{rand.New(rand.NewPCG(5+diffSeed, 6))}
	for i := range 5000 * diffScale {
		p := genExchange(g, i)
		want := oldExchange(p)
		var wantLinks []uint64
		var oldKeys []oldLink
		if want.Endpoint != "" {
			oldKeys = oldLinkKeys(want)
			for _, l := range oldKeys {
				wantLinks = append(wantLinks, maphash.String(rec.linkSeed, l.key))
			}
		}
		oldMaskExchange(want, passwords)

		w.arena, w.entries = w.arena[:0], w.entries[:0]
		rec.prepare(&w.enc, p)
		var gotLinks []uint64
		if want.Endpoint != "" {
			for _, l := range w.enc.links.links {
				gotLinks = append(gotLinks, l.hash)
			}
		}
		rec.blobs.reset() // every body inline: no blob to read back
		rec.appendEntry(w, p)
		var got Exchange
		if err := decodeRecord(p.id.String(), w.bytes(w.entries[0].full), &got, nil); err != nil {
			t.Fatal(err)
		}
		got.FlowID = ""
		slices.Sort(wantLinks)
		slices.Sort(gotLinks)
		wantLinks, gotLinks = slices.Compact(wantLinks), slices.Compact(gotLinks)
		if !slices.Equal(gotLinks, wantLinks) {
			t.Fatalf("exchange %d (%s): links differ\n got %v\nwant %v %v\nrequest %s %q\nanswer %q", i, want.Endpoint,
				gotLinks, wantLinks, oldKeys, p.url.RawQuery, p.reqBody, p.respBody)
		}
		if !json.Valid(p.reqBody) {
			// An invalid body is masked by patterns, which may make it
			// readable, or a body that json.Decoder reads unreadable:
			// the JSON decoded from the stored body can differ from
			// the masked decoding of the clear one. It never holds
			// more than the stored body.
			got.JSON, want.JSON = nil, nil
		}
		if g, w := toJSON(t, got), toJSON(t, want); g != w {
			t.Fatalf("exchange %d:\n got %s\nwant %s", i, g, w)
		}
	}
}

// oldExchange is what the recorder built of p before masking, as it was.
func oldExchange(p *pending) *Exchange {
	ex := &Exchange{ID: p.id.String(), Time: p.start.UTC(), DurationMS: p.duration, Method: p.method,
		URL: p.url.RequestURI(), Path: p.url.Path, Host: p.host, RemoteAddr: p.remote, Proto: p.proto,
		Status: p.status, RequestBody: string(p.reqBody), ResponseBody: string(p.respBody),
		Endpoint: p.notes.Endpoint, Fault: p.notes.Fault, Script: p.notes.Script}
	ex.RequestHeaders = pairsToMap(p.reqHeader)
	ex.ResponseHeaders = pairsToMap(p.respHeader)
	oldBuild(ex, p.notes.Dropped, p.panicked)
	return ex
}

func pairsToMap(pairs []string) map[string][]string {
	if len(pairs) == 0 {
		return nil
	}
	h := map[string][]string{}
	for i := 0; i < len(pairs); i += 2 {
		h[pairs[i]] = append(h[pairs[i]], pairs[i+1])
	}
	return h
}

// diffScale and diffSeed widen the differential tests when set (by hand).
var diffScale, diffSeed = 1, uint64(0)

func TestLinkKindsAreTheMaps(t *testing.T) {
	t.Parallel()
	for _, m := range []struct {
		kinds map[string]string
		kind  func([]byte) string
	}{{requestLinks, requestLinkKind}, {answerLinks, answerLinkKind}} {
		for _, name := range append(slices.Collect(maps.Keys(requestLinks)), genKeys...) {
			equal(t, name, m.kind([]byte(name)), m.kinds[name])
		}
	}
}

// TestStrNotesBackslashU holds escU, which lets nested skip strings that
// cannot spell "password", to its definition: the string's text holds a
// backslash followed by "u".
func TestStrNotesBackslashU(t *testing.T) {
	t.Parallel()
	g := jsonGen{rand.New(rand.NewPCG(5+diffSeed, 6))}
	texts := []string{"", "u", `\`, `\u0070`, `\\u`, `\\\u0041`, `\\\\u`, `a\u0070b`, "\\\\", "\\\"u", "\\nu", "uu\\"}
	texts = append(append(texts, genKeys...), genStrings...)
	for range 5000 {
		// Documents with JSON in their strings, whose quoting nests.
		texts = append(texts, g.value(0))
	}
	for _, text := range texts {
		for _, raw := range []string{toJSON(t, text), uEscaped(text)} {
			var s jsonScan
			s.reset([]byte(raw), passwords)
			if end := s.str(0); s.bad || end != len(raw) {
				t.Fatalf("str(%s) = %d, bad %t", raw, end, s.bad)
			}
			if want := strings.Contains(raw, `\u`); s.escU != want {
				t.Fatalf("str(%s): escU = %t, want %t", raw, s.escU, want)
			}
		}
	}
}

// TestNestedPasswordsSpelledWithEscapes: a password key inside JSON
// carried in a string is masked however it is escaped, at one level of
// nesting or two, as the decoding oracle masks it.
func TestNestedPasswordsSpelledWithEscapes(t *testing.T) {
	t.Parallel()
	inner := []string{
		`{"\u0070assword":"pw-1"}`, // \u escape in the nested text
		`{"PASSWORD":"pw-2"}`,      // plain, other case
		`{"p\u0061ssword":"pw-3"}`, // escape inside the word
		`{"ok":"{\"\\u0070assword\":\"pw-4\"}"}`,
	}
	for _, in := range inner {
		for _, doc := range []string{`{"data":` + toJSON(t, in) + `}`, `{"data":` + uEscaped(in) + `}`,
			`{"data":` + toJSON(t, `{"data":`+toJSON(t, in)+`}`) + `}`} {
			got, ok := maskJSON([]byte(doc), passwords)
			want, wantOK := oldMaskJSON([]byte(doc), passwords)
			if ok != wantOK || string(got) != string(want) {
				t.Fatalf("maskJSON(%s) = %s %t, want %s %t", doc, got, ok, want, wantOK)
			}
			if string(got) == doc {
				t.Fatalf("maskJSON(%s) masked nothing", doc)
			}
		}
	}
}

// uEscaped is text as a JSON string in which everything but ASCII
// letters and digits is a \u escape.
func uEscaped(text string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(text, "\uFFFD") {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			fmt.Fprintf(&b, `\u%04x`, u)
		}
	}
	b.WriteByte('"')
	return b.String()
}
