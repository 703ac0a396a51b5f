package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is a connection refused because of where it goes:
// loopback, private, link-local (cloud metadata), CGNAT, multicast or
// otherwise not a public address, and not on the allow-list. Check with
// errors.Is; the error itself is an *AddressError.
var ErrForbiddenAddress = errors.New("webhooks may not reach this address")

// AddressError is a refused address and why.
type AddressError struct {
	Addr   netip.Addr
	Reason string // what kind of address it is: "loopback", "private (RFC 1918)", ...
}

func (e *AddressError) Error() string {
	what := "address " + e.Addr.String() + " is " + e.Reason
	if !e.Addr.IsValid() {
		what = "the address to connect to is " + e.Reason
	}
	return what + ": webhooks may not reach it unless the allow-list names it (serve --webhook-allow, IDSLEDGER_WEBHOOK_ALLOW)"
}

// Is makes errors.Is(err, ErrForbiddenAddress) hold.
func (e *AddressError) Is(target error) bool { return target == ErrForbiddenAddress }

// forbidden are the ranges a delivery may not connect to unless the
// allow-list names them: every range that reaches the service's own host,
// its private networks or its cloud's metadata service, rather than a
// receiver on the Internet. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d)
// are checked as the IPv4 address they are; NAT64 ones (64:ff9b::a.b.c.d)
// as the IPv4 address they translate to.
var forbidden = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified (\"this network\")"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (where cloud metadata services answer)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved for IETF protocol assignments"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved for benchmarking"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (broadcast included)"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible (deprecated)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64"},
	{netip.MustParsePrefix("fc00::/7"), "private (unique local; cloud metadata answers at fd00:ec2::254)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated private)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// nat64 is the well-known NAT64 prefix: its last 32 bits are an IPv4
// address that the translator connects to.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// AddressPolicy decides which addresses deliveries may connect to: any
// public address, and forbidden ones only when the allow-list names them.
// The zero value allows no forbidden address.
type AddressPolicy struct {
	allow []netip.Prefix
}

// NewAddressPolicy returns the policy that exempts the networks in allow.
func NewAddressPolicy(allow []netip.Prefix) AddressPolicy {
	p := AddressPolicy{}
	for _, a := range allow {
		p.allow = append(p.allow, normalizePrefix(a))
	}
	return p
}

// Check returns nil when a delivery may connect to ip, or an *AddressError
// saying why not.
func (p AddressPolicy) Check(ip netip.Addr) error {
	if !ip.IsValid() {
		return &AddressError{Addr: ip, Reason: "not an IP address"}
	}
	ip = ip.WithZone("").Unmap() // a zoned address matches no prefix
	if p.allowed(ip) {
		return nil
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		v4 := netip.AddrFrom4([4]byte(b[12:]))
		if p.allowed(v4) {
			return nil
		}
		if reason := classify(v4); reason != "" {
			return &AddressError{Addr: ip, Reason: reason + ", through NAT64"}
		}
		return nil
	}
	if reason := classify(ip); reason != "" {
		return &AddressError{Addr: ip, Reason: reason}
	}
	return nil
}

func (p AddressPolicy) allowed(ip netip.Addr) bool {
	for _, a := range p.allow {
		if a.Contains(ip) {
			return true
		}
	}
	return false
}

// classify returns what kind of forbidden address ip is, or "" for a
// public one.
func classify(ip netip.Addr) string {
	for _, f := range forbidden {
		if f.prefix.Contains(ip) {
			return f.reason
		}
	}
	return ""
}

// control is the dialer's Control: it runs after DNS resolution, on the
// address about to be connected to, for every connection (so a name that
// resolves to a public address when the webhook is created and to an
// internal one later, DNS rebinding, is refused all the same).
func (p AddressPolicy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &AddressError{Reason: fmt.Sprintf("not an IP address (%q)", address)}
	}
	return p.Check(ap.Addr())
}

// CheckURL refuses, when the webhook is created, a URL whose host is a
// forbidden address or a name that resolves only to forbidden addresses.
// A name that does not resolve now passes: the check at connect time, the
// one that counts, decides when there is something to connect to.
func (p AddressPolicy) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.Check(ip)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", strings.TrimSuffix(host, "."))
	if err != nil || len(ips) == 0 {
		return nil
	}
	var first error
	for _, ip := range ips {
		err := p.Check(ip)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return fmt.Errorf("%s resolves only to addresses webhooks may not reach: %w", host, first)
}

// ParseAllowList parses a comma-separated list of CIDRs and addresses (an
// address stands for itself alone), as --webhook-allow takes it.
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if ip, err := netip.ParseAddr(f); err == nil {
			if ip.Zone() != "" {
				return nil, fmt.Errorf("%q: an address with a zone", f)
			}
			out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q: want a CIDR or an address", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// normalizePrefix turns an IPv4-mapped prefix (::ffff:10.0.0.0/104) into
// the IPv4 one it means (10.0.0.0/8), since addresses are checked unmapped.
func normalizePrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Masked()
	}
	return p.Masked()
}
