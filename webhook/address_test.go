package webhook

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// Every forbidden range is refused at its edges and inside, in its
// IPv4-mapped and NAT64 forms too, and the addresses just outside pass.
func TestAddressPolicyClassifies(t *testing.T) {
	cases := []struct {
		addr   string
		reason string // "" when allowed
	}{
		// IPv4 ranges, first and last address, and neighbours outside.
		{"0.0.0.0", "unspecified"},
		{"0.255.255.255", "unspecified"},
		{"1.0.0.0", ""},
		{"9.255.255.255", ""},
		{"10.0.0.0", "private"},
		{"10.255.255.255", "private"},
		{"11.0.0.0", ""},
		{"100.63.255.255", ""},
		{"100.64.0.0", "carrier-grade NAT"},
		{"100.100.100.200", "carrier-grade NAT"}, // Alibaba Cloud's metadata service
		{"100.127.255.255", "carrier-grade NAT"},
		{"100.128.0.0", ""},
		{"126.255.255.255", ""},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"128.0.0.0", ""},
		{"169.253.255.255", ""},
		{"169.254.0.0", "link-local"},
		{"169.254.169.254", "link-local"}, // cloud metadata
		{"169.254.255.255", "link-local"},
		{"169.255.0.0", ""},
		{"172.15.255.255", ""},
		{"172.16.0.0", "private"},
		{"172.31.255.255", "private"},
		{"172.32.0.0", ""},
		{"192.0.0.170", "IETF"},
		{"192.167.255.255", ""},
		{"192.168.0.1", "private"},
		{"192.168.255.255", "private"},
		{"192.169.0.0", ""},
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.255", "benchmarking"},
		{"198.20.0.0", ""},
		{"223.255.255.255", ""},
		{"224.0.0.1", "multicast"},
		{"239.255.255.255", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "reserved"},
		{"8.8.8.8", ""},
		{"93.184.216.34", ""},
		// IPv6.
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"::7f00:1", "IPv4-compatible"},
		{"fc00::1", "private"},
		{"fd00:ec2::254", "private"}, // AWS metadata over IPv6
		{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private"},
		{"fe00::1", ""},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"}, // a zone must not hide it
		{"febf:ffff::1", "link-local"},
		{"fec0::1", "site-local"},
		{"ff02::1", "multicast"},
		{"2606:4700:4700::1111", ""},
		{"2001:4860:4860::8888", ""},
		// IPv4-mapped forms are the IPv4 address they carry.
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:10.1.2.3", "private"},
		{"::ffff:169.254.169.254", "link-local"},
		{"::ffff:100.64.0.1", "carrier-grade NAT"},
		{"::ffff:0.0.0.0", "unspecified"},
		{"::ffff:8.8.8.8", ""},
		// NAT64 forms are the IPv4 address they translate to.
		{"64:ff9b::7f00:1", "loopback, through NAT64"},
		{"64:ff9b::a9fe:a9fe", "link-local"},
		{"64:ff9b::a00:1", "private"},
		{"64:ff9b::808:808", ""},
		{"64:ff9b:1::1", "local-use NAT64"},
	}
	var p AddressPolicy
	for _, c := range cases {
		err := p.Check(netip.MustParseAddr(c.addr))
		switch {
		case c.reason == "" && err != nil:
			t.Errorf("%s: refused (%v), want allowed", c.addr, err)
		case c.reason != "" && err == nil:
			t.Errorf("%s: allowed, want refused as %s", c.addr, c.reason)
		case c.reason != "" && (!errors.Is(err, ErrForbiddenAddress) || !strings.Contains(err.Error(), c.reason)):
			t.Errorf("%s: %v, want ErrForbiddenAddress naming %q", c.addr, err, c.reason)
		}
	}
	if err := p.Check(netip.Addr{}); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("the zero address: %v", err)
	}
}

// The allow-list exempts exactly the networks it names, whatever the form
// of the address.
func TestAddressPolicyAllowList(t *testing.T) {
	allow, err := ParseAllowList("127.0.0.0/8, 169.254.169.254, ::ffff:10.9.0.0/112,fd00::/64")
	if err != nil {
		t.Fatal(err)
	}
	p := NewAddressPolicy(allow)
	for _, c := range []struct {
		addr    string
		allowed bool
	}{
		{"127.0.0.1", true},
		{"127.3.2.1", true},
		{"::ffff:127.0.0.1", true},
		{"64:ff9b::7f00:1", true},
		{"::1", false}, // IPv6 loopback is not 127.0.0.0/8
		{"169.254.169.254", true},
		{"169.254.169.253", false},
		{"10.9.1.1", true}, // named in mapped form
		{"10.8.1.1", false},
		{"fd00::1", true},
		{"fd00:ec2::254", false},
		{"192.168.1.1", false},
		{"8.8.8.8", true},
	} {
		if err := p.Check(netip.MustParseAddr(c.addr)); (err == nil) != c.allowed {
			t.Errorf("%s: allowed %v, want %v (%v)", c.addr, err == nil, c.allowed, err)
		}
	}
}

func TestParseAllowList(t *testing.T) {
	got, err := ParseAllowList(" 10.1.2.3/8 ,::1,, 192.168.0.7")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "::1/128", "192.168.0.7/32"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if got, err := ParseAllowList(""); err != nil || len(got) != 0 {
		t.Fatalf("empty list: %v %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "fe80::1%eth0", "10.0.0.0/8;"} {
		if _, err := ParseAllowList(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The dialer's hook sees "ip:port" after DNS; anything it cannot read as
// an address is refused.
func TestControlChecksTheConnectedAddress(t *testing.T) {
	var p AddressPolicy
	for addr, ok := range map[string]bool{
		"127.0.0.1:80":                false,
		"[::1]:443":                   false,
		"[fe80::1%eth0]:80":           false,
		"[::ffff:169.254.169.254]:80": false,
		"8.8.8.8:443":                 true,
		"[2606:4700:4700::1111]:443":  true,
		"not-an-address:80":           false,
	} {
		if err := p.control("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("%s: %v", addr, err)
		}
	}
}

// At creation, a literal forbidden address or a name that resolves only
// to forbidden ones is refused; a name that does not resolve passes.
func TestCheckURL(t *testing.T) {
	var p AddressPolicy
	ctx := context.Background()
	for _, u := range []string{"http://127.0.0.1:9/x", "https://[::1]/", "http://169.254.169.254/latest/meta-data/",
		"http://[fd00:ec2::254]/", "http://10.0.0.1/", "http://localhost:8080/hook"} {
		if err := p.CheckURL(ctx, u); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("%s: %v, want ErrForbiddenAddress", u, err)
		}
	}
	for _, u := range []string{"https://8.8.8.8/hook", "https://[2606:4700:4700::1111]/", "https://receiver.invalid/hook"} {
		if err := p.CheckURL(ctx, u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	allow, _ := ParseAllowList("127.0.0.0/8,::1")
	if err := NewAddressPolicy(allow).CheckURL(ctx, "http://localhost:8080/hook"); err != nil {
		t.Errorf("localhost allow-listed: %v", err)
	}
}
