package runtime

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// RNG is a small deterministic pseudo-random generator: xoshiro256** seeded
// through splitmix64. The same seed gives the same stream of values on every
// platform, NormFloat64 included (it uses only exactly rounded operations and
// a logarithm written so that no platform may fuse its multiply-adds).
//
// An RNG is not safe for concurrent use. Its zero value is not seeded and
// returns only zeros; use NewRNG or Seed. No method allocates.
type RNG struct {
	s        [4]uint64
	spare    float64 // second value of the last normal pair
	hasSpare bool
}

// NewRNG returns a generator seeded with seed.
func NewRNG(seed uint64) *RNG {
	r := new(RNG)
	r.Seed(seed)
	return r
}

// Seed resets r to the state NewRNG(seed) starts from.
func (r *RNG) Seed(seed uint64) {
	x := seed
	for i := range r.s {
		x += 0x9e3779b97f4a7c15
		r.s[i] = splitmix64(x)
	}
	r.spare, r.hasSpare = 0, false
}

// splitmix64 is the output function of Vigna's splitmix64 for the state x
// (the state already advanced by the golden-ratio increment). It is a
// bijection, so four consecutive states never give an all-zero xoshiro state.
func splitmix64(x uint64) uint64 {
	z := x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// rngStateSize is the length of MarshalBinary's encoding.
const rngStateSize = 4*8 + 8 + 1

// MarshalBinary encodes the generator's whole state (41 bytes: the four
// xoshiro words and the spare normal value, little-endian, and a byte that
// says whether the spare is pending), so that UnmarshalBinary continues
// the stream exactly where r is. Checkpoints store generators this way.
func (r *RNG) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, rngStateSize)
	for _, w := range r.s {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.spare))
	if r.hasSpare {
		return append(b, 1), nil
	}
	return append(b, 0), nil
}

// UnmarshalBinary restores a state MarshalBinary encoded. It refuses, and
// leaves r as it was, data of another length, a last byte other than 0 or
// 1, an all-zero xoshiro state (no seed gives it: it would return only
// zeros) and a pending spare that is not finite.
func (r *RNG) UnmarshalBinary(b []byte) error {
	if len(b) != rngStateSize {
		return fmt.Errorf("rng: state is %d bytes, want %d", len(b), rngStateSize)
	}
	var s [4]uint64
	for i := range s {
		s[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	spare := math.Float64frombits(binary.LittleEndian.Uint64(b[32:]))
	switch {
	case s == [4]uint64{}:
		return fmt.Errorf("rng: state is all zeros")
	case b[40] > 1:
		return fmt.Errorf("rng: spare flag is %d, want 0 or 1", b[40])
	case b[40] == 1 && !finite(spare):
		return fmt.Errorf("rng: spare normal value is %v", spare)
	}
	r.s, r.spare, r.hasSpare = s, spare, b[40] == 1
	return nil
}

// Uint64 returns a uniformly distributed 64-bit value.
func (r *RNG) Uint64() uint64 {
	s := &r.s
	result := bits.RotateLeft64(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
	return result
}

// Float64 returns a uniformly distributed value in [0, 1) with 53 random bits.
func (r *RNG) Float64() float64 {
	return float64(r.Uint64()>>11) * 0x1p-53
}

// NormFloat64 returns a standard normal value (mean 0, variance 1). It uses
// Marsaglia's polar form of the Box–Muller transform, which makes values in
// pairs: every second call returns the spare value of the pair without
// advancing the uniform stream. Seed discards the spare.
func (r *RNG) NormFloat64() float64 {
	if r.hasSpare {
		r.hasSpare = false
		return r.spare
	}
	for {
		// 2u-1 is exact for the 53-bit u of Float64, so u and v are exact.
		u := 2*r.Float64() - 1
		v := 2*r.Float64() - 1
		s := float64(u*u) + float64(v*v)
		if s == 0 || s >= 1 {
			continue
		}
		f := math.Sqrt(-2 * portableLog(s) / s)
		r.spare, r.hasSpare = v*f, true
		return u * f
	}
}

// Intn returns a uniformly distributed value in [0, n) without modulo bias
// (Lemire's multiply-and-reject method). It panics if n <= 0.
func (r *RNG) Intn(n int) int {
	if n <= 0 {
		panic(fmt.Sprintf("runtime: RNG.Intn: n is %d, want > 0", n))
	}
	un := uint64(n)
	hi, lo := bits.Mul64(r.Uint64(), un)
	if lo < un {
		thresh := -un % un // 2^64 mod n
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), un)
		}
	}
	return int(hi)
}

// Shuffle permutes the elements 0..n-1 uniformly at random (Fisher–Yates,
// from the end) by calling swap. It panics if n < 0.
func (r *RNG) Shuffle(n int, swap func(i, j int)) {
	if n < 0 {
		panic(fmt.Sprintf("runtime: RNG.Shuffle: n is %d, want >= 0", n))
	}
	for i := n - 1; i > 0; i-- {
		swap(i, r.Intn(i+1))
	}
}

// portableLog is the natural logarithm of a positive finite x. It is the
// FreeBSD/fdlibm algorithm of math.Log's pure-Go version (error < 1 ulp) with
// every product explicitly rounded by a conversion. The Go spec lets a
// compiler fuse x*y+z into one multiply-add, even across statements, unless a
// conversion rounds the product; with the conversions the result is
// bit-identical on every architecture. math.Log itself uses assembly on some
// architectures and may be fused on others.
func portableLog(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01 // 3fe62e42 fee00000
		ln2Lo = 1.90821492927058770002e-10 // 3dea39ef 35793c76
		l1    = 6.666666666666735130e-01   // 3FE55555 55555593
		l2    = 3.999999999940941908e-01   // 3FD99999 9997FA04
		l3    = 2.857142874366239149e-01   // 3FD24924 94229359
		l4    = 2.222219843214978396e-01   // 3FCC71C5 1D8E78AF
		l5    = 1.818357216161805012e-01   // 3FC74664 96CB03DE
		l6    = 1.531383769920937332e-01   // 3FC39A09 D078C69F
		l7    = 1.479819860511658591e-01   // 3FC2F112 DF3E5244
	)
	f1, ki := math.Frexp(x) // exact on every platform
	if f1 < math.Sqrt2/2 {
		f1 *= 2
		ki--
	}
	f := f1 - 1
	k := float64(ki)

	s := f / (2 + f)
	s2 := float64(s * s)
	s4 := float64(s2 * s2)
	t1 := float64(s2 * (l1 + float64(s4*(l3+float64(s4*(l5+float64(s4*l7)))))))
	t2 := float64(s4 * (l2 + float64(s4*(l4+float64(s4*l6)))))
	rr := t1 + t2
	hfsq := float64(0.5 * f * f)
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+rr)) + float64(k*ln2Lo))) - f)
}
