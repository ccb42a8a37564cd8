package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"

	"github.com/bpgen/bpgen/generated/mnist_mlp"
)

// rawSize is the size of a raw request body: InputSize little-endian float32s.
const rawSize = mnist_mlp.InputSize * 4

// maxJSONBody bounds a JSON request body (784 numbers need far less).
const maxJSONBody = 1 << 20

// request is a JSON request body.
type request struct {
	Input []float64 `json:"input"` // InputSize pixel values, row-major, usually in [0, 1]
}

// response is the answer to a classification request.
type response struct {
	Class         int       `json:"class"`         // the most probable digit
	Probabilities []float64 `json:"probabilities"` // softmax of the logits, one per digit
	Logits        []float32 `json:"logits"`        // the network's output
}

// server answers classification requests with a pool of Models: each
// request takes one for the time of its forward pass (a Model's buffers are
// not shared), so at most len(pool) requests compute at once and the others
// wait for a Model or for their client to go away.
type server struct {
	pool chan *mnist_mlp.Model
}

// newServer returns a server with n Models holding the parameters of m.
func newServer(m *mnist_mlp.Model, n int) *server {
	s := &server{pool: make(chan *mnist_mlp.Model, n)}
	for range n {
		c := mnist_mlp.New()
		c.Params = m.Params
		s.pool <- c
	}
	return s
}

// ServeHTTP answers POST /classify (see the package doc).
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/classify" {
		httpError(w, http.StatusNotFound, fmt.Sprintf("%s: not found; POST /classify", r.URL.Path))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s: want POST", r.Method))
		return
	}
	var x mnist_mlp.Input
	status, err := readInput(w, r, &x)
	if err != nil {
		httpError(w, status, err.Error())
		return
	}
	var m *mnist_mlp.Model
	select {
	case m = <-s.pool:
	case <-r.Context().Done():
		httpError(w, http.StatusServiceUnavailable, "the request ended while waiting for a free model")
		return
	}
	out := *m.Forward(&x)
	s.pool <- m
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(classify(&out))
}

// readInput decodes the request body into x: JSON ({"input": [784 numbers]})
// or, with Content-Type application/octet-stream, 784 little-endian float32s.
// Every value must be finite. On error it returns the HTTP status to answer
// with.
func readInput(w http.ResponseWriter, r *http.Request, x *mnist_mlp.Input) (int, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" {
		mt, err = "application/json", nil
	}
	if err != nil {
		return http.StatusUnsupportedMediaType, fmt.Errorf("Content-Type %q: %v", ct, err)
	}
	switch mt {
	case "application/octet-stream":
		body := http.MaxBytesReader(w, r.Body, rawSize)
		var buf [rawSize]byte
		n, err := io.ReadFull(body, buf[:])
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return http.StatusBadRequest, fmt.Errorf("raw body of %d bytes: want %d (%d float32s)", n, rawSize, mnist_mlp.InputSize)
		case err != nil:
			return http.StatusBadRequest, fmt.Errorf("reading the body: %v", err)
		}
		if _, err := body.Read(make([]byte, 1)); err != io.EOF {
			return http.StatusRequestEntityTooLarge, fmt.Errorf("raw body longer than %d bytes (%d float32s)", rawSize, mnist_mlp.InputSize)
		}
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
	case "application/json":
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
		dec.DisallowUnknownFields()
		var req request
		if err := dec.Decode(&req); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return http.StatusRequestEntityTooLarge, fmt.Errorf("JSON body longer than %d bytes", maxJSONBody)
			}
			return http.StatusBadRequest, fmt.Errorf("JSON body: %v", err)
		}
		if dec.More() {
			return http.StatusBadRequest, errors.New("JSON body: more than one value")
		}
		if len(req.Input) != mnist_mlp.InputSize {
			return http.StatusBadRequest, fmt.Errorf("input has %d values, want %d", len(req.Input), mnist_mlp.InputSize)
		}
		for i, v := range req.Input {
			x[i] = float32(v)
		}
	default:
		return http.StatusUnsupportedMediaType, fmt.Errorf("Content-Type %q: want application/json or application/octet-stream", ct)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return http.StatusBadRequest, fmt.Errorf("input value %d is %v, want a finite number", i, v)
		}
	}
	return 0, nil
}

// classify turns the logits into the answer: the class with the largest
// logit (the first on a tie) and the softmax probabilities.
func classify(out *mnist_mlp.Output) response {
	res := response{Logits: out[:], Probabilities: make([]float64, len(out))}
	top := float64(out[0])
	for i, v := range out {
		if float64(v) > top {
			res.Class, top = i, float64(v)
		}
	}
	sum := 0.0
	for i, v := range out {
		res.Probabilities[i] = math.Exp(float64(v) - top)
		sum += res.Probabilities[i]
	}
	for i := range res.Probabilities {
		res.Probabilities[i] /= sum
	}
	return res
}

// httpError answers with status and {"error": msg}.
func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
