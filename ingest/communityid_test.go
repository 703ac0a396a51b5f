package ingest

import (
	"encoding/json"
	"net/netip"
	"os"
	"testing"
)

// The spec's published baseline (baseline/baseline_deflt.json of
// corelight/community-id-spec: seed 0, base64), copied to testdata.
func TestCommunityIDSpecBaseline(t *testing.T) {
	b, err := os.ReadFile("testdata/community_id_baseline.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct {
		Proto uint8  `json:"proto"`
		Saddr string `json:"saddr"`
		Daddr string `json:"daddr"`
		Sport uint16 `json:"sport"`
		Dport uint16 `json:"dport"`
		Want  string `json:"communityid"`
	}
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) < 20 {
		t.Fatalf("only %d vectors", len(vectors))
	}
	for _, v := range vectors {
		got := CommunityID(netip.MustParseAddr(v.Saddr), netip.MustParseAddr(v.Daddr), v.Sport, v.Dport, v.Proto)
		if got != v.Want {
			t.Errorf("%d %s:%d -> %s:%d: got %s, want %s", v.Proto, v.Saddr, v.Sport, v.Daddr, v.Dport, got, v.Want)
		}
	}
}

func TestCommunityIDMissingAddress(t *testing.T) {
	if got := CommunityID(netip.Addr{}, netip.MustParseAddr("10.0.0.1"), 1, 2, 6); got != "" {
		t.Fatalf("got %q for a flow without a source address", got)
	}
	if got := CommunityID(netip.MustParseAddr("::1"), netip.MustParseAddr("10.0.0.1"), 1, 2, 6); got != "" {
		t.Fatalf("got %q for mixed address families", got)
	}
}
