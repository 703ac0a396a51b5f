package flsim

import "math/rand/v2"

// newRand is the simulation's seeded generator.
func newRand(seed int64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 0xf15e)) }
