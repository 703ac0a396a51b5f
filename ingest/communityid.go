package ingest

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
)

// IP protocol numbers that Community ID treats specially.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

// icmpCounterpart maps ICMP message types to the type of their answer, as
// the Community ID spec (after Zeek's ICMP4_counterpart) does. A type absent
// here makes a one-way flow whose "ports" are type and code.
var (
	icmpCounterpart   = map[uint16]uint16{8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 17: 18, 18: 17}
	icmpv6Counterpart = map[uint16]uint16{128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135,
		130: 131, 131: 130, 139: 140, 140: 139, 144: 145, 145: 144}
)

// CommunityID returns the Community ID v1 flow hash (seed 0, SHA-1, base64,
// "1:" prefix; https://github.com/corelight/community-id-spec) of a flow.
// For ICMP and ICMPv6, srcPort and dstPort are the message type and code.
// Both directions of a flow give the same id. It returns "" when an address
// is missing or the two addresses are of different families.
func CommunityID(src, dst netip.Addr, srcPort, dstPort uint16, proto uint8) string {
	return communityID(0, src, dst, srcPort, dstPort, proto)
}

func communityID(seed uint16, src, dst netip.Addr, sp, dp uint16, proto uint8) string {
	src, dst = src.Unmap(), dst.Unmap()
	if !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4() {
		return ""
	}
	hasPorts := true
	oneWay := false
	switch proto {
	case protoTCP, protoUDP, protoSCTP:
	case protoICMP, protoICMPv6:
		table := icmpCounterpart
		if proto == protoICMPv6 {
			table = icmpv6Counterpart
		}
		if peer, ok := table[sp]; ok {
			dp = peer
		} else {
			oneWay = true
		}
	default:
		hasPorts = false
	}
	a, b := src.AsSlice(), dst.AsSlice()
	if !oneWay {
		c := bytes.Compare(a, b)
		if c > 0 || (c == 0 && hasPorts && sp > dp) {
			a, b, sp, dp = b, a, dp, sp
		}
	}
	buf := make([]byte, 0, 2+16+16+2+4)
	buf = binary.BigEndian.AppendUint16(buf, seed)
	buf = append(buf, a...)
	buf = append(buf, b...)
	buf = append(buf, proto, 0)
	if hasPorts {
		buf = binary.BigEndian.AppendUint16(buf, sp)
		buf = binary.BigEndian.AppendUint16(buf, dp)
	}
	sum := sha1.Sum(buf)
	return "1:" + base64.StdEncoding.EncodeToString(sum[:])
}
