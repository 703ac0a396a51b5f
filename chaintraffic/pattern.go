package chaintraffic

import (
	"fmt"
	"slices"
	"strings"
)

// Pattern names one kind of injected anomaly.
type Pattern string

// The patterns Generate can inject, in the order it lists them.
const (
	// Drain: an account with a normal history fans its whole balance out
	// to many fresh accounts in a few blocks, and sweeps its tokens to one.
	Drain Pattern = "drain"
	// Flood: one account sends a burst of many small transactions.
	Flood Pattern = "flood"
	// Phishing: many normal accounts send small amounts to one account,
	// which then forwards what it collected to another.
	Phishing Pattern = "phishing"
	// RegistryRogueCall: an account without the anchoring role calls the
	// registry's anchor and anchorBatch (the calls revert NotAnchorer and
	// are mined as failed; an account holding the role would succeed).
	RegistryRogueCall Pattern = "registry_rogue_call"
	// RegistryRoleChange: the registry owner grants the anchoring role to
	// a fresh account and revokes it, then hands ownership to another fresh
	// account, which hands it straight back.
	RegistryRoleChange Pattern = "registry_role_change"
	// RegistryForeignBatch: the owner grants the role to a fresh account,
	// which anchors a batch the service's database does not know (an id
	// far above the service's), and the owner revokes the role again.
	RegistryForeignBatch Pattern = "registry_foreign_batch"
)

// Patterns returns every pattern Generate knows.
func Patterns() []Pattern {
	return []Pattern{Drain, Flood, Phishing, RegistryRogueCall, RegistryRoleChange, RegistryForeignBatch}
}

// registryPatterns are the patterns that need the AuditRegistry.
var registryPatterns = []Pattern{RegistryRogueCall, RegistryRoleChange, RegistryForeignBatch}

// ParsePatterns reads a comma-separated list of pattern names. "registry"
// stands for the three registry patterns, "all" for every pattern; "" and
// "none" mean none. Duplicates are dropped; the result follows Patterns'
// order.
func ParsePatterns(s string) ([]Pattern, error) {
	want := map[Pattern]bool{}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "", "none":
		case "all":
			for _, p := range Patterns() {
				want[p] = true
			}
		case "registry":
			for _, p := range registryPatterns {
				want[p] = true
			}
		default:
			if !slices.Contains(Patterns(), Pattern(name)) {
				return nil, fmt.Errorf("unknown pattern %q (want drain, flood, phishing, registry, registry_rogue_call, registry_role_change, registry_foreign_batch or all)", name)
			}
			want[Pattern(name)] = true
		}
	}
	var out []Pattern
	for _, p := range Patterns() {
		if want[p] {
			out = append(out, p)
		}
	}
	return out, nil
}
