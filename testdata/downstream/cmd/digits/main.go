// Command digits trains the generated classifier on three well-separated
// clusters, prints its accuracy, and checks that its weights survive a
// safetensors round trip.
package main

import (
	"bytes"
	"fmt"
	"log"

	"example.com/digits"
	"github.com/bpgen/bpgen/runtime"
)

// centers are the means of the three classes.
var centers = [3]digits.Input{
	{2, 0, 0, 0},
	{0, 2, 0, 0},
	{0, 0, 2, -2},
}

// clusters returns n samples per class: a center plus normal noise of
// standard deviation 0.3, drawn from a generator seeded with seed.
func clusters(n int, seed uint64) ([]digits.Input, []digits.Target) {
	rng := runtime.NewRNG(seed)
	var xs []digits.Input
	var ys []digits.Target
	for i := 0; i < n; i++ {
		for class, c := range centers {
			var x digits.Input
			for j := range x {
				x[j] = c[j] + float32(0.3*rng.NormFloat64())
			}
			xs = append(xs, x)
			ys = append(ys, class)
		}
	}
	return xs, ys
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("digits: ")
	trainX, trainY := clusters(40, 1)
	testX, testY := clusters(20, 2)

	m := digits.New()
	if _, err := m.Fit(trainX, trainY, digits.DefaultTrainConfig()); err != nil {
		log.Fatal(err)
	}
	_, trainAcc := m.Accuracy(trainX, trainY)
	_, testAcc := m.Accuracy(testX, testY)
	fmt.Printf("train accuracy %.2f\n", trainAcc)
	fmt.Printf("test accuracy %.2f\n", testAcc)

	var buf bytes.Buffer
	if err := m.WriteSafetensors(&buf); err != nil {
		log.Fatal(err)
	}
	loaded := digits.New()
	if err := loaded.ReadSafetensors(&buf); err != nil {
		log.Fatal(err)
	}
	for i := range testX {
		want := *m.Forward(&testX[i])
		if got := *loaded.Forward(&testX[i]); got != want {
			log.Fatalf("sample %d: loaded model gives %v, trained model %v", i, got, want)
		}
	}
	fmt.Println("weights round trip ok")
}
