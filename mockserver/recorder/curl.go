package recorder

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// pair is one url-encoded name=value, as sent and decoded.
type pair struct {
	rawName     string
	name, value string
	hasValue    bool
}

// formPairs splits a url-encoded string keeping the order, which
// url.ParseQuery loses. Undecodable parts are kept as sent.
func formPairs(raw string) []pair {
	var out []pair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		rawName, rawValue, hasValue := strings.Cut(part, "=")
		p := pair{rawName: rawName, name: unescape(rawName), value: unescape(rawValue), hasValue: hasValue}
		out = append(out, p)
	}
	return out
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// curlSkip are headers curl sets itself, or that would make it print
// compressed bytes.
var curlSkip = map[string]bool{"Content-Length": true, "Host": true, "Accept-Encoding": true,
	"Connection": true, "Transfer-Encoding": true, "Expect": true}

// Curl returns a curl command line that sends the exchange's request
// again to base ("https://localhost:8443"; when empty, the exchange's own
// host over http). Secrets are masked unless reveal is set (which, as for
// [HAR], reveals only what ex holds). Form bodies become one
// --data-urlencode per field, in order; other bodies --data-raw.
func Curl(ex Exchange, base string, reveal bool) string {
	if !reveal {
		maskExchange(&ex, everything)
	}
	var args []string
	if ex.RequestTruncated {
		args = append(args, fmt.Sprintf("# the request body was cut at %d bytes when recorded\n", len(ex.RequestBody)))
	}
	args = append(args, "curl")
	if ex.Method != "GET" || ex.RequestBody != "" {
		args = append(args, "-X", shellWord(ex.Method))
	}
	args = append(args, shellQuote(absoluteURL(base, &ex)))
	for _, name := range slices.Sorted(maps.Keys(ex.RequestHeaders)) {
		if curlSkip[name] {
			continue
		}
		for _, v := range ex.RequestHeaders[name] {
			args = append(args, "-H", shellQuote(name+": "+v))
		}
	}
	args = append(args, curlBody(&ex)...)
	return joinArgs(args)
}

func curlBody(ex *Exchange) []string {
	if ex.RequestBody == "" {
		return nil
	}
	if bodyKind(headerValue(ex.RequestHeaders, "Content-Type"), ex.RequestBody) != kindForm {
		return []string{"--data-raw", shellQuote(ex.RequestBody)}
	}
	var args []string
	for _, p := range formPairs(ex.RequestBody) {
		if !p.hasValue || p.rawName == "" {
			args = append(args, "--data-raw", shellQuote(p.rawName))
			continue
		}
		// curl encodes the content, not the name, and reads a name
		// with "@" as a file name: keep the name as sent, "@" escaped.
		name := strings.ReplaceAll(p.rawName, "@", "%40")
		args = append(args, "--data-urlencode", shellQuote(name+"="+p.value))
	}
	return args
}

// joinArgs puts every option on its own line, as people paste them.
func joinArgs(args []string) string {
	var b strings.Builder
	for i, a := range args {
		switch {
		case i == 0 || strings.HasSuffix(args[i-1], "\n"):
		case strings.HasPrefix(a, "-") && i > 1:
			b.WriteString(" \\\n  ")
		default:
			b.WriteByte(' ')
		}
		b.WriteString(a)
	}
	return b.String()
}

// shellQuote quotes s for POSIX shells: inside single quotes nothing is
// special, and a single quote is written as '\”.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellWord leaves plain words such as methods unquoted.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == "" {
		return s
	}
	return shellQuote(s)
}
