package sim

import (
	"hash/fnv"
	"math/rand/v2"
)

// Streams derives independent, named random streams from one run seed.
//
// A stream's state depends only on the seed and its name, never on which
// other streams exist or in what order they were created. Adding a component
// (and its stream) to a model therefore leaves every other component's draws
// unchanged, which keeps experiments comparable: a change of one knob changes
// only what that knob touches (common random numbers).
//
// Each stream is a PCG generator (math/rand/v2) seeded from a SplitMix64
// mix of the seed and an FNV-1a hash of the name. Streams is a small value;
// copy it freely.
type Streams struct {
	seed uint64
}

// NewStreams returns the streams of a run with the given seed.
func NewStreams(seed uint64) Streams { return Streams{seed: seed} }

// Seed returns the run seed.
func (s Streams) Seed() uint64 { return s.seed }

// Source returns a new source for the named stream. Two calls with the same
// name return sources that produce the same sequence. It satisfies
// math/rand/v2.Source, which gonum's distuv distributions take as Src.
func (s Streams) Source(name string) *rand.PCG {
	h := nameHash(name)
	return rand.NewPCG(splitmix64(s.seed^h), splitmix64(s.seed+0x9e3779b97f4a7c15^(h<<1|h>>63)))
}

// Rand returns a generator over the named stream.
func (s Streams) Rand(name string) *rand.Rand { return rand.New(s.Source(name)) }

// Derive returns the streams of a sub-component: Derive("gateway").Rand("x")
// differs from Rand("x") and from Derive("db").Rand("x").
func (s Streams) Derive(name string) Streams {
	return Streams{seed: splitmix64(s.seed ^ nameHash(name))}
}

// Replication returns the streams of replication i of a run: independent of
// each other and of the base seed's own streams.
func (s Streams) Replication(i int) Streams {
	return Streams{seed: splitmix64(splitmix64(s.seed) + uint64(i)*0xbf58476d1ce4e5b9 + 1)}
}

func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// splitmix64 is the finaliser of SplitMix64 (Steele, Lea and Flood, 2014):
// a bijection that spreads every input bit over the whole output, so nearby
// seeds give unrelated generator states.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
