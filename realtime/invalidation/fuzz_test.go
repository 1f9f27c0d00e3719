package invalidation

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// fuzzSrc draws the generator's choices from the fuzz input: IntN takes as
// many bytes as n-1 needs (one for every choice below 256) and reads zeros
// once the input is used up.
type fuzzSrc struct{ data []byte }

func (s *fuzzSrc) IntN(n int) int {
	if n <= 1 {
		return 0
	}
	var v uint64
	for k := uint64(n - 1); k > 0; k >>= 8 {
		v <<= 8
		if len(s.data) > 0 {
			v |= uint64(s.data[0])
			s.data = s.data[1:]
		}
	}
	return int(v % uint64(n))
}

// fuzzMaxOps bounds one input's stream so every input runs fast.
const fuzzMaxOps = 3000

// FuzzEngine decodes the input into an operation stream (the oracle's op
// type and generator, its choices taken from the bytes) and applies it to
// the engine and the reference model, comparing after every op. The first
// choices pick the configuration: overflow policy, legacy metadata reads,
// queue limit (1 to 12) and write log limit.
func FuzzEngine(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0}, 64))
	f.Add(bytes.Repeat([]byte{0xff}, 256))
	f.Add([]byte("subscribe, commit, overflow, next, refresh: stormglass"))
	for i := range 6 {
		r := rand.New(rand.NewPCG(7, uint64(i)))
		b := make([]byte, 200+700*i)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &fuzzSrc{data: data}
		policy := OverflowPolicy(src.IntN(3))
		legacy := src.IntN(2) == 1
		limit := 1 + src.IntN(12)
		logLimit := []int{-1, 1, 3, 8, 0}[src.IntN(5)]
		cfg := Config{QueueLimit: limit, Overflow: policy, LegacyMetadataReads: legacy, WriteLogLimit: logLimit}
		g := &oracleGen{src: src, base: policy, baseLegacy: legacy, qmin: 1, qmax: 12}
		var ops []oracleOp
		for len(src.data) > 0 && len(ops) < fuzzMaxOps {
			ops = append(ops, g.op())
		}
		// The fuzzer minimises a failing input itself; the message shows
		// the last 30 ops of the stream it decodes to.
		if _, at, msg := oracleRun(t, cfg, ops, false); at > 0 {
			t.Fatal(msg)
		}
	})
}
