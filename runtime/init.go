package runtime

import (
	"fmt"
	"math"
	"strings"
)

// initSchemes lists the schemes InitParams knows, in the order error
// messages name them.
var initSchemes = []string{"pytorch", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal"}

// InitParams fills every tensor of tensors, that is params[t.Offset :
// t.Offset+t.Size], with random values drawn from one RNG seeded with seed,
// the tensors in the order given, each in element order. The same arguments
// give the same parameters on every platform.
//
// Schemes (fan-in and fan-out are Tensor.FanIn and Tensor.FanOut):
//
//	pytorch         weight and bias ~ U(-1/sqrt(fanIn), 1/sqrt(fanIn)): the default of
//	                PyTorch's nn.Linear and nn.Conv2d (kaiming_uniform with a = sqrt(5))
//	xavier_uniform  weight ~ U(-a, a), a = sqrt(6/(fanIn+fanOut)); bias 0
//	xavier_normal   weight ~ N(0, 2/(fanIn+fanOut)); bias 0
//	he_uniform      weight ~ U(-a, a), a = sqrt(6/fanIn); bias 0
//	he_normal       weight ~ N(0, 2/fanIn); bias 0
//
// Zeroed bias tensors draw nothing from the generator. Values are computed in
// float64 and rounded to T.
//
// InitParams checks all its arguments before it writes anything: an unknown
// scheme is an error naming it and the valid ones; a tensor that lies outside
// params, or whose fan-in (fan-in plus fan-out for xavier weights) is not
// positive where the scheme needs it, is an error naming the tensor. On error
// params is unchanged.
func InitParams[T Float](params []T, tensors []Tensor, scheme string, seed uint64) error {
	switch scheme {
	case "pytorch", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal":
	default:
		return fmt.Errorf("init scheme %q unknown; valid schemes: %s", scheme, strings.Join(initSchemes, ", "))
	}
	for _, t := range tensors {
		if t.Offset < 0 || t.Size < 0 || t.Offset > len(params) || t.Size > len(params)-t.Offset {
			return fmt.Errorf("tensor %q: offset %d and size %d do not fit in %d parameters", t.Name, t.Offset, t.Size, len(params))
		}
		if t.Size == 0 {
			continue
		}
		switch t.Const {
		case "", "ones", "zeros":
		default:
			return fmt.Errorf("tensor %q: constant initial value %q unknown; want ones or zeros", t.Name, t.Const)
		}
		if t.Const != "" {
			continue
		}
		switch {
		case scheme == "pytorch" || (!t.Bias && (scheme == "he_uniform" || scheme == "he_normal")):
			if t.FanIn <= 0 {
				return fmt.Errorf("tensor %q: fan-in is %d, want > 0 for init scheme %s", t.Name, t.FanIn, scheme)
			}
		case !t.Bias:
			if t.FanIn < 0 || t.FanOut < 0 || t.FanIn+t.FanOut <= 0 {
				return fmt.Errorf("tensor %q: fan-in %d and fan-out %d, want both >= 0 with a positive sum for init scheme %s",
					t.Name, t.FanIn, t.FanOut, scheme)
			}
		}
	}

	rng := NewRNG(seed)
	for _, t := range tensors {
		p := params[t.Offset : t.Offset+t.Size]
		fanIn, fanOut := float64(t.FanIn), float64(t.FanOut)
		switch {
		case t.Const == "ones":
			for i := range p {
				p[i] = 1
			}
		case t.Const == "zeros":
			clear(p)
		case scheme == "pytorch":
			fillUniform(p, rng, 1/math.Sqrt(fanIn))
		case t.Bias:
			clear(p)
		case scheme == "xavier_uniform":
			fillUniform(p, rng, math.Sqrt(6/(fanIn+fanOut)))
		case scheme == "xavier_normal":
			fillNormal(p, rng, math.Sqrt(2/(fanIn+fanOut)))
		case scheme == "he_uniform":
			fillUniform(p, rng, math.Sqrt(6/fanIn))
		case scheme == "he_normal":
			fillNormal(p, rng, math.Sqrt(2/fanIn))
		}
	}
	return nil
}

// fillUniform sets every element of p to a value of U(-bound, bound).
func fillUniform[T Float](p []T, rng *RNG, bound float64) {
	for i := range p {
		p[i] = T(bound * (2*rng.Float64() - 1)) // 2u-1 is exact
	}
}

// fillNormal sets every element of p to a value of N(0, std²).
func fillNormal[T Float](p []T, rng *RNG, std float64) {
	for i := range p {
		p[i] = T(std * rng.NormFloat64())
	}
}
