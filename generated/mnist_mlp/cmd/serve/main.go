// Command serve answers MNIST classification requests over HTTP with the
// generated MLP (784-128-10):
//
//	go run ./generated/mnist_mlp/cmd/serve [-addr 127.0.0.1:8080] [-models N] [-weights W.safetensors]
//
// POST /classify with a JSON body {"input": [784 numbers]} (pixels row-major,
// 0 to 1 as the training data), or with Content-Type application/octet-stream
// and 784 little-endian float32s (3136 bytes), answers
//
//	{"class": 7, "probabilities": [10 numbers], "logits": [10 numbers]}
//
// A bad request gets status 400 (413 for a body too long, 415 for another
// Content-Type, 405 for another method) and {"error": "what is wrong"}.
//
// -weights loads trained weights (from `bpgen train testdata/mnist_mlp.yaml`
// or `go run ./generated/mnist_mlp/cmd/train -o W.safetensors`); without it
// the untrained network answers, with a warning. -models N (default: twice
// GOMAXPROCS) is the pool of Models: one per request in flight, so at most N
// forward passes run at once and further requests wait for a free Model.
// -addr is where to listen, 127.0.0.1 by default (loopback only). SIGINT
// or SIGTERM shuts the server down after the requests in flight.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	goruntime "runtime"
	"syscall"
	"time"

	"github.com/bpgen/bpgen/generated/mnist_mlp"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("serve: ")
	addr := flag.String("addr", "127.0.0.1:8080", "listen on this `host:port`")
	models := flag.Int("models", 2*goruntime.GOMAXPROCS(0), "`N` Models in the pool: at most N requests compute at once")
	weights := flag.String("weights", "", "load trained weights from this safetensors `file`")
	flag.Parse()
	if flag.NArg() != 0 || *models < 1 {
		flag.Usage()
		os.Exit(2)
	}
	m, err := load(*weights)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler:           newServer(m, *models),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	log.Printf("answering POST http://%s/classify with %d models", ln.Addr(), *models)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// load returns a Model with the weights in path, or New's untrained one if
// path is empty.
func load(path string) (*mnist_mlp.Model, error) {
	m := mnist_mlp.New()
	if path == "" {
		log.Print("no -weights: the network is untrained and its answers are guesses")
		return m, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := m.ReadSafetensors(f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
