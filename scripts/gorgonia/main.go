// Command gorgonia times gorgonia (gorgonia.org/gorgonia v0.9.18, one core)
// training two of bpgen's examples with the same layers, loss, optimizer and
// batch: mnist_mlp (784-128 relu-10, softmax cross-entropy, Adam lr 0.001,
// batch 32) and cnn_small (conv 8@3×3 pad 1, relu, maxpool 2, dense 10, Adam,
// batch 32), on random inputs and labels (the speed does not depend on the
// values). It prints one JSON line per network:
// {"model", "bench": "TrainBatch", "samples_per_s", "runtime"}, which
// scripts/benchtable reads.
//
// It is its own module so that gorgonia never becomes a dependency of bpgen.
// gorgonia.org/tensor v0.9.24, which gorgonia v0.9.18 takes, computes
// LogSoftMax without subtracting the row maximum in one of its paths, which
// hurts its accuracy but not its speed; on Go 1.26 it needs
// go4.org/unsafe/assume-no-moving-gc at its latest version (go.mod).
//
//	cd scripts/gorgonia && GOMAXPROCS=1 go run . [-seconds S]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand"
	"os"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

const batch = 32

// net is one training graph: inputs x and one-hot targets y bound each step.
type net struct {
	g         *G.ExprGraph
	x, y      *G.Node
	learnable G.Nodes
	xShape    tensor.Shape
}

// dense returns in·w + b for in of shape (batch, n).
func dense(g *G.ExprGraph, in *G.Node, n, units int, name string) (*G.Node, G.Nodes) {
	w := G.NewMatrix(g, tensor.Float32, G.WithShape(n, units), G.WithName(name+"_w"), G.WithInit(G.GlorotU(1)))
	b := G.NewMatrix(g, tensor.Float32, G.WithShape(1, units), G.WithName(name+"_b"), G.WithInit(G.Zeroes()))
	out := G.Must(G.BroadcastAdd(G.Must(G.Mul(in, w)), b, nil, []byte{0}))
	return out, G.Nodes{w, b}
}

// finish adds softmax cross-entropy (mean over the batch) and the gradients.
func finish(n *net, logits *G.Node) {
	logp := G.Must(G.LogSoftMax(logits))
	loss := G.Must(G.Neg(G.Must(G.Mean(G.Must(G.HadamardProd(logp, n.y))))))
	if _, err := G.Grad(loss, n.learnable...); err != nil {
		log.Fatal(err)
	}
}

func mlp() *net {
	g := G.NewGraph()
	n := &net{g: g, xShape: tensor.Shape{batch, 784}}
	n.x = G.NewMatrix(g, tensor.Float32, G.WithShape(batch, 784), G.WithName("x"))
	n.y = G.NewMatrix(g, tensor.Float32, G.WithShape(batch, 10), G.WithName("y"))
	h, p0 := dense(g, n.x, 784, 128, "l0")
	h = G.Must(G.Rectify(h))
	logits, p1 := dense(g, h, 128, 10, "l1")
	n.learnable = append(p0, p1...)
	finish(n, logits)
	return n
}

func cnnSmall() *net {
	g := G.NewGraph()
	n := &net{g: g, xShape: tensor.Shape{batch, 1, 28, 28}}
	n.x = G.NewTensor(g, tensor.Float32, 4, G.WithShape(batch, 1, 28, 28), G.WithName("x"))
	n.y = G.NewMatrix(g, tensor.Float32, G.WithShape(batch, 10), G.WithName("y"))
	k := G.NewTensor(g, tensor.Float32, 4, G.WithShape(8, 1, 3, 3), G.WithName("conv_w"), G.WithInit(G.GlorotU(1)))
	c := G.Must(G.Conv2d(n.x, k, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1}))
	c = G.Must(G.Rectify(c))
	c = G.Must(G.MaxPool2D(c, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}))
	c = G.Must(G.Reshape(c, tensor.Shape{batch, 8 * 14 * 14}))
	logits, p := dense(g, c, 8*14*14, 10, "out")
	n.learnable = append(G.Nodes{k}, p...)
	finish(n, logits)
	return n
}

// train runs Adam steps for about seconds and returns samples/s.
func train(n *net, seconds float64) float64 {
	rng := rand.New(rand.NewSource(1))
	xs := make([]float32, n.xShape.TotalSize())
	ys := make([]float32, batch*10)
	for i := range xs {
		xs[i] = rng.Float32()
	}
	for i := 0; i < batch; i++ {
		ys[i*10+rng.Intn(10)] = 1
	}
	xT := tensor.New(tensor.WithShape(n.xShape...), tensor.WithBacking(xs))
	yT := tensor.New(tensor.WithShape(batch, 10), tensor.WithBacking(ys))
	vm := G.NewTapeMachine(n.g, G.BindDualValues(n.learnable...))
	defer vm.Close()
	solver := G.NewAdamSolver(G.WithLearnRate(0.001), G.WithBatchSize(batch))
	step := func() {
		if err := G.Let(n.x, xT); err != nil {
			log.Fatal(err)
		}
		if err := G.Let(n.y, yT); err != nil {
			log.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			log.Fatal(err)
		}
		if err := solver.Step(G.NodesToValueGrads(n.learnable)); err != nil {
			log.Fatal(err)
		}
		vm.Reset()
	}
	for i := 0; i < 5; i++ {
		step() // warm up
	}
	// the best of three rounds: on a shared machine others' load only ever
	// slows a round down
	best := 0.0
	for round := 0; round < 3; round++ {
		steps, start := 0, time.Now()
		for time.Since(start).Seconds() < seconds {
			step()
			steps++
		}
		best = max(best, float64(steps*batch)/time.Since(start).Seconds())
	}
	return best
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("gorgonia: ")
	seconds := flag.Float64("seconds", 2, "seconds per timing round (three rounds per network)")
	flag.Parse()
	enc := json.NewEncoder(os.Stdout)
	for _, c := range []struct {
		name string
		make func() *net
	}{{"mnist_mlp", mlp}, {"cnn_small", cnnSmall}} {
		r := map[string]any{"model": c.name, "bench": "TrainBatch", "samples_per_s": train(c.make(), *seconds),
			"runtime": fmt.Sprintf("gorgonia %s (adam, batch %d)", "v0.9.18", batch)}
		if err := enc.Encode(r); err != nil {
			log.Fatal(err)
		}
	}
}
