package tlsca

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// defaultNames are the addresses by which clients on this computer reach
// the server: localhost and both loopback addresses for desktop tools and
// the iOS simulator (which shares the Mac's network), 10.0.2.2 for the
// Android emulator and 10.0.3.2 for Genymotion, whose virtual networks map
// those addresses to the host's loopback interface.
var defaultNames = []string{"localhost", "127.0.0.1", "::1", "10.0.2.2", "10.0.3.2"}

// canonicalName returns n in the form that certificate SANs compare
// equal to: IP addresses in their shortest form, DNS names in lower case
// without a trailing dot.
func canonicalName(n string) (string, error) {
	s := strings.TrimSpace(n)
	if _, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return canonicalIP(s)
	}
	name := strings.TrimSuffix(strings.ToLower(s), ".")
	if !validDNSName(name) {
		return "", fmt.Errorf("tlsca: %q is neither a DNS name nor an IP address", n)
	}
	return name, nil
}

// canonicalIP parses an IP address, accepting the bracketed form of IPv6
// that URLs use.
func canonicalIP(ip string) (string, error) {
	s := strings.TrimSpace(ip)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return "", fmt.Errorf("tlsca: %q is not an IP address", ip)
	}
	// A zone (fe80::1%en0) only means something on this computer and
	// cannot be written into a certificate.
	if addr.Zone() != "" {
		return "", fmt.Errorf("tlsca: %q has a zone, which a certificate cannot hold", ip)
	}
	// Nobody connects to 0.0.0.0 or ::, so a listen address passed by
	// mistake is caught here rather than silently covered.
	if addr.IsUnspecified() {
		return "", fmt.Errorf("tlsca: %q is the unspecified address, not one that clients can dial", ip)
	}
	return addr.Unmap().String(), nil
}

// validDNSName accepts host names made of letters, digits and hyphens, and
// a leading "*" label for wildcards. An all-digit last label is refused:
// no top-level domain is numeric, so such a name is a mistyped IP address.
func validDNSName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	labels := strings.Split(name, ".")
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return false
	}
	for i, label := range labels {
		if i == 0 && label == "*" {
			continue
		}
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// dedup drops repeated names, keeping the first occurrence so that the
// defaults stay first.
func dedup(names []string) []string {
	out := names[:0]
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// certNames returns the canonical names a certificate covers.
func certNames(c *x509.Certificate) []string {
	var names []string
	for _, d := range c.DNSNames {
		names = append(names, strings.TrimSuffix(strings.ToLower(d), "."))
	}
	for _, ip := range c.IPAddresses {
		if addr, ok := netip.AddrFromSlice(ip); ok {
			names = append(names, addr.Unmap().String())
		}
	}
	return names
}

// nameKey turns a name list into a string that is equal for equal sets.
func nameKey(names []string) string {
	s := slices.Clone(names)
	slices.Sort(s)
	return strings.Join(slices.Compact(s), " ")
}
