package ingest

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// fastCanonical writes b's canonical form (RFC 8785) directly, members in
// sorted order, for bodies whose strings are all ASCII: there JCS string
// escaping is plain JSON escaping (\b \f \n \r \t, \u00xx for the other
// control characters, \" and \\) and key order is byte order. Numbers take
// the ECMAScript shortest form, as encoding/json writes float64. Any other
// body returns ok false and the caller takes the general path (marshal, then
// canonicalize). TestFastCanonicalMatchesJCS and FuzzCanonical hold it
// to anchor.Canonicalize byte for byte.
func fastCanonical(b AlertBody) ([]byte, bool) {
	if !isASCII(b.Class) || !isASCII(b.CommunityID) || !isASCII(b.Sensor) || !isASCII(string(b.Severity)) ||
		!isASCII(b.Type) || !isASCII(b.Model.ID) || !isASCII(b.Model.Version) ||
		!isASCII(b.Flow.SrcAddr.Zone()) || !isASCII(b.Flow.DstAddr.Zone()) {
		return nil, false
	}
	if y := b.ObservedAt.Year(); y < 0 || y > 9999 {
		return nil, false // encoding/json refuses it: the general path says why
	}
	keys := make([]string, 0, len(b.Features))
	size := 320
	for k, v := range b.Features {
		if !isASCII(k) || !isASCII(v) {
			return nil, false
		}
		keys = append(keys, k)
		size += len(k) + len(v) + 6
	}
	slices.Sort(keys)

	buf := make([]byte, 0, size)
	buf = append(buf, `{"class":`...)
	buf = appendJSONString(buf, b.Class)
	if b.CommunityID != "" {
		buf = append(buf, `,"community_id":`...)
		buf = appendJSONString(buf, b.CommunityID)
	}
	if len(keys) > 0 {
		buf = append(buf, `,"features":{`...)
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, k)
			buf = append(buf, ':')
			buf = appendJSONString(buf, b.Features[k])
		}
		buf = append(buf, '}')
	}
	buf = append(buf, `,"flow":{"dst_addr":`...)
	buf = appendJSONAddr(buf, b.Flow.DstAddr)
	buf = append(buf, `,"dst_port":`...)
	buf = strconv.AppendUint(buf, uint64(b.Flow.DstPort), 10)
	buf = append(buf, `,"proto":`...)
	buf = strconv.AppendUint(buf, uint64(b.Flow.Proto), 10)
	buf = append(buf, `,"src_addr":`...)
	buf = appendJSONAddr(buf, b.Flow.SrcAddr)
	buf = append(buf, `,"src_port":`...)
	buf = strconv.AppendUint(buf, uint64(b.Flow.SrcPort), 10)
	buf = append(buf, '}')
	buf = append(buf, `,"id":"`...)
	buf = append(buf, b.ID.String()...)
	buf = append(buf, '"')
	if b.Imputed != 0 {
		buf = append(buf, `,"imputed":`...)
		// A JSON number is a double: past 2^53 JCS writes the nearest one.
		buf = appendJSONNumber(buf, float64(b.Imputed))
	}
	buf = append(buf, `,"model":{"id":`...)
	buf = appendJSONString(buf, b.Model.ID)
	buf = append(buf, `,"version":`...)
	buf = appendJSONString(buf, b.Model.Version)
	buf = append(buf, `},"observed_at":"`...)
	buf = b.ObservedAt.AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, `","risk":`...)
	buf = appendJSONNumber(buf, b.Risk)
	buf = append(buf, `,"score":`...)
	buf = appendJSONNumber(buf, b.Score)
	buf = append(buf, `,"sensor":`...)
	buf = appendJSONString(buf, b.Sensor)
	buf = append(buf, `,"severity":`...)
	buf = appendJSONString(buf, string(b.Severity))
	if b.SubmittedBy != nil {
		buf = append(buf, `,"submitted_by":"`...)
		buf = append(buf, b.SubmittedBy.String()...)
		buf = append(buf, '"')
	}
	buf = append(buf, `,"type":`...)
	buf = appendJSONString(buf, b.Type)
	return append(buf, '}'), true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// appendJSONString appends the JSON string of an ASCII s.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c >= 0x20:
			buf = append(buf, c)
		case c == '\b':
			buf = append(buf, '\\', 'b')
		case c == '\f':
			buf = append(buf, '\\', 'f')
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c == '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
	}
	return append(buf, '"')
}

// appendJSONAddr appends an address as its JSON text form ("" when unset).
func appendJSONAddr(buf []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(buf, `""`...)
	}
	return appendJSONString(buf, a.String())
}

// appendJSONNumber appends a finite float64 as ECMAScript's Number to
// String does (RFC 8785 section 3.2.2.3): -0 as 0, and exponents from 1e21
// and below 1e-6, with no leading zero or plus sign dropped ("1e-7",
// "1e+21").
func appendJSONNumber(buf []byte, f float64) []byte {
	if f == 0 {
		return append(buf, '0')
	}
	format := byte('f')
	if abs := math.Abs(f); abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	start := len(buf)
	buf = strconv.AppendFloat(buf, f, format, -1, 64)
	if format == 'e' {
		// "1e-07" → "1e-7"
		n := len(buf)
		if n-start >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
			buf[n-2] = buf[n-1]
			buf = buf[:n-1]
		}
	}
	return buf
}
