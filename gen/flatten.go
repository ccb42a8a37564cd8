package gen

import (
	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

func init() {
	register(flattenEmitter{}, spec.KindFlatten)
}

// flatten: y = x viewed as a vector, C, H, W order (row-major, as PyTorch's
// nn.Flatten), so dx = dy viewed in x's shape. Every buffer is already a flat
// array, so flatten emits no code: its output and gradient are its input's.
type flattenEmitter struct{}

func (flattenEmitter) preBackward(*plan, *node) []jen.Code    { return nil }
func (flattenEmitter) consts(*plan, *node) []jen.Code         { return nil }
func (flattenEmitter) params(*plan, *node) []tensor           { return nil }
func (flattenEmitter) fields(*plan, *node) []field            { return nil }
func (flattenEmitter) aliases(*spec.Node) bool                { return true }
func (flattenEmitter) forward(*plan, *node) []jen.Code        { return nil }
func (flattenEmitter) backward(*plan, *node, bool) []jen.Code { return nil }

func (flattenEmitter) flops(*node) int64 { return 0 }
