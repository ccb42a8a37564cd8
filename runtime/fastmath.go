package runtime

import "math"

// Float32 sigmoid and tanh for the gates of the generated recurrent layers
// of float32 models, computed in float32 without a round trip through
// math.Exp and math.Tanh in float64 (which took over a third of char_lm's
// training time). Their error against the float64 functions is a few units
// in the last place of a float32 (at most 8) (see TestSigmoid32, TestTanh32); NaN gives
// NaN, ±Inf the limits.

// Sigmoid32 returns 1/(1+e^-x) in float32: exp32 of −|x|, so that the
// result never overflows and keeps its relative accuracy for very negative x
// down to float32's smallest normal numbers (0 below x = −87.33).
func Sigmoid32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x >= 0:
		if x > 88 {
			return 1
		}
		return 1 / (1 + exp32(-x))
	case x < -87.33: // e^x below float32's smallest normal number
		return 0
	}
	e := exp32(x)
	return e / (1 + e)
}

// exp32 returns e^x for x in [−87.33, 88] (Cephes' expf): x = k·ln2 + r with
// |r| ≤ ln2/2, e^r by a degree-7 polynomial, 2^k through the exponent bits.
func exp32(x float32) float32 {
	f := x * math.Log2E
	var k int32
	if f >= 0 {
		k = int32(f + 0.5)
	} else {
		k = int32(f - 0.5)
	}
	kf := float32(k)
	r := x - kf*0.693359375 + kf*2.12194440e-4 // ln2 in two parts, exact product for the first
	z := r * r
	y := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	y = y*z + r + 1
	return y * math.Float32frombits(uint32(k+127)<<23)
}

// Tanh32 returns tanh(x) in float32 by a rational function of x of degree
// 13/6 (Eigen's fast float tanh), exact to float32 rounding beyond |x| ≈ 7.9,
// where it is ±1, and below 0.0004, where it is x.
func Tanh32(x float32) float32 {
	const clamp = 7.90531110763549805
	switch {
	case x != x:
		return x
	case x > clamp:
		return 1
	case x < -clamp:
		return -1
	case x < 0.0004 && x > -0.0004:
		return x
	}
	x2 := x * x
	p := x2*-2.76076847742355e-16 + 2.00018790482477e-13
	p = p*x2 + -8.60467152213735e-11
	p = p*x2 + 5.12229709037114e-08
	p = p*x2 + 1.48572235717979e-05
	p = p*x2 + 6.37261928875436e-04
	p = p*x2 + 4.89352455891786e-03
	q := x2*1.19825839466702e-06 + 1.18534705686654e-04
	q = q*x2 + 2.26843463243900e-03
	q = q*x2 + 4.89352518554385e-03
	return x * p / q
}
