package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bpgen/bpgen/generated/mnist_mlp"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trainedLike returns a Model whose parameters differ from New's (scaled
// by 1.5), so that the answers depend on the pool's copies being right.
func trainedLike() *mnist_mlp.Model {
	m := mnist_mlp.New()
	for i, p := range m.ParamSlice() {
		m.ParamSlice()[i] = p * 1.5
	}
	return m
}

// inputs returns n random inputs in [0, 1).
func inputs(n int, seed uint64) []mnist_mlp.Input {
	rng := runtime.NewRNG(seed)
	xs := make([]mnist_mlp.Input, n)
	for i := range xs {
		for j := range xs[i] {
			xs[i][j] = float32(rng.Float64())
		}
	}
	return xs
}

// jsonBody and rawBody encode x as the two request formats.
func jsonBody(x *mnist_mlp.Input) []byte {
	b, _ := json.Marshal(map[string]any{"input": x[:]})
	return b
}

func rawBody(x *mnist_mlp.Input) []byte {
	b := make([]byte, 0, rawSize)
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// post sends a classification request and decodes the answer.
func post(c *http.Client, url string, raw bool, body []byte) (int, response, string, error) {
	ct := "application/json"
	if raw {
		ct = "application/octet-stream"
	}
	resp, err := c.Post(url+"/classify", ct, bytes.NewReader(body))
	if err != nil {
		return 0, response{}, "", err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	var r response
	if resp.StatusCode == http.StatusOK {
		err = json.Unmarshal(buf.Bytes(), &r)
	}
	return resp.StatusCode, r, buf.String(), err
}

// TestServeLoad sends N requests from several goroutines to a server with a
// small pool of Models: every answer equals a direct Forward of the same
// input on a Model of its own (logits bit for bit, the class, the softmax),
// in both body formats. The race detector (CI's race step) watches the
// pool. Latencies are logged, never judged.
func TestServeLoad(t *testing.T) {
	requests, clients := 800, 8
	if testing.Short() {
		requests = 160
	}
	m := trainedLike()
	xs := inputs(32, 5)
	want := make([]mnist_mlp.Output, len(xs))
	direct := mnist_mlp.New()
	direct.Params = m.Params
	for i := range xs {
		want[i] = *direct.Forward(&xs[i])
	}
	srv := httptest.NewServer(newServer(m, 3))
	defer srv.Close()

	var mu sync.Mutex
	var latencies []time.Duration
	var wg sync.WaitGroup
	errs := make(chan error, requests)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := srv.Client()
			for k := c; k < requests; k += clients {
				i, raw := k%len(xs), k%2 == 1
				body := jsonBody(&xs[i])
				if raw {
					body = rawBody(&xs[i])
				}
				start := time.Now()
				status, r, text, err := post(client, srv.URL, raw, body)
				d := time.Since(start)
				switch {
				case err != nil:
					errs <- fmt.Errorf("request %d: %v", k, err)
					continue
				case status != http.StatusOK:
					errs <- fmt.Errorf("request %d: status %d: %s", k, status, text)
					continue
				}
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
				if !slices.Equal(r.Logits, want[i][:]) || r.Class != runtime.Argmax(want[i][:]) {
					errs <- fmt.Errorf("request %d (input %d, raw %v): class %d, logits %v; want class %d, logits %v",
						k, i, raw, r.Class, r.Logits, runtime.Argmax(want[i][:]), want[i])
				}
				sum := 0.0
				for _, p := range r.Probabilities {
					sum += p
				}
				if len(r.Probabilities) != mnist_mlp.OutputSize || math.Abs(sum-1) > 1e-12 ||
					slices.Index(r.Probabilities, slices.Max(r.Probabilities)) != r.Class {
					errs <- fmt.Errorf("request %d: probabilities %v (sum %v) do not fit class %d", k, r.Probabilities, sum, r.Class)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n < 10 {
			t.Error(err)
		}
		n++
	}
	require.Zero(t, n, "failed requests")
	require.Len(t, latencies, requests)
	slices.Sort(latencies)
	q := func(p float64) time.Duration { return latencies[int(math.Ceil(p*float64(len(latencies))))-1] }
	t.Logf("%d requests from %d clients, 3 models: latency p50 %v, p90 %v, p99 %v, max %v",
		requests, clients, q(0.5), q(0.9), q(0.99), latencies[len(latencies)-1])
}

// TestServeBadRequests checks the status and the error of every kind of
// bad request.
func TestServeBadRequests(t *testing.T) {
	srv := httptest.NewServer(newServer(trainedLike(), 1))
	defer srv.Close()
	x := inputs(1, 1)[0]
	nan := x
	nan[3] = float32(math.NaN())
	inf := x
	inf[783] = float32(math.Inf(-1))
	for _, c := range []struct {
		name, method, path, ct string
		body                   []byte
		status                 int
		want                   string
	}{
		{"GET", "GET", "/classify", "", nil, 405, "method GET: want POST"},
		{"other path", "POST", "/predict", "application/json", jsonBody(&x), 404, "/predict: not found; POST /classify"},
		{"short JSON input", "POST", "/classify", "application/json", []byte(`{"input": [1, 2, 3]}`), 400, "input has 3 values, want 784"},
		{"no input", "POST", "/classify", "application/json", []byte(`{}`), 400, "input has 0 values, want 784"},
		{"unknown key", "POST", "/classify", "application/json", []byte(`{"pixels": [1]}`), 400, `JSON body: json: unknown field "pixels"`},
		{"not JSON", "POST", "/classify", "application/json", []byte(`input=1`), 400, "JSON body: invalid character 'i' looking for beginning of value"},
		{"two values", "POST", "/classify", "", append(jsonBody(&x), jsonBody(&x)...), 400, "JSON body: more than one value"},
		{"JSON string values", "POST", "/classify", "application/json", []byte(`{"input": ["a"]}`), 400,
			"JSON body: json: cannot unmarshal string into Go struct field request.input of type float64"},
		{"JSON too long", "POST", "/classify", "application/json", append([]byte(`{"input": [`+strings.Repeat("0,", maxJSONBody/2)), "0]}"...), 413,
			"JSON body longer than 1048576 bytes"},
		{"raw too short", "POST", "/classify", "application/octet-stream", rawBody(&x)[:100], 400, "raw body of 100 bytes: want 3136 (784 float32s)"},
		{"raw empty", "POST", "/classify", "application/octet-stream", nil, 400, "raw body of 0 bytes: want 3136 (784 float32s)"},
		{"raw too long", "POST", "/classify", "application/octet-stream", append(rawBody(&x), 0), 413, "raw body longer than 3136 bytes (784 float32s)"},
		{"raw NaN", "POST", "/classify", "application/octet-stream", rawBody(&nan), 400, "input value 3 is NaN, want a finite number"},
		{"raw -Inf", "POST", "/classify", "application/octet-stream", rawBody(&inf), 400, "input value 783 is -Inf, want a finite number"},
		{"JSON overflows float32", "POST", "/classify", "application/json",
			[]byte(`{"input": [1e39` + strings.Repeat(",0", 783) + `]}`), 400, "input value 0 is +Inf, want a finite number"},
		{"other content type", "POST", "/classify", "text/plain", []byte("1"), 415,
			`Content-Type "text/plain": want application/json or application/octet-stream`},
		{"bad content type", "POST", "/classify", "a/b; =", []byte("1"), 415, `Content-Type "a/b; =": mime: invalid media parameter`},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, srv.URL+c.path, bytes.NewReader(c.body))
			require.NoError(t, err)
			if c.ct != "" {
				req.Header.Set("Content-Type", c.ct)
			}
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var got map[string]string
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
			assert.Equal(t, c.status, resp.StatusCode)
			assert.Equal(t, map[string]string{"error": c.want}, got)
		})
	}
	// The server still answers after all of them (its one Model is back).
	status, r, text, err := post(srv.Client(), srv.URL, false, jsonBody(&x))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, text)
	want := *trainedLike().Forward(&x)
	assert.Equal(t, want[:], r.Logits)
}

// TestServeWaitsForModel holds the pool's only Model: a request whose
// client gives up while waiting gets 503, and a waiting request is answered
// once the Model is back.
func TestServeWaitsForModel(t *testing.T) {
	s := newServer(trainedLike(), 1)
	x := inputs(1, 2)[0]
	held := <-s.pool

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, "POST", "/classify", bytes.NewReader(jsonBody(&x)))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.JSONEq(t, `{"error": "the request ended while waiting for a free model"}`, rec.Body.String())

	done := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("POST", "/classify", bytes.NewReader(jsonBody(&x))))
		done <- rec
	}()
	select {
	case <-done:
		t.Fatal("answered without a free Model")
	case <-time.After(50 * time.Millisecond):
	}
	s.pool <- held
	rec = <-done
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var r response
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &r))
	want := *trainedLike().Forward(&x)
	assert.Equal(t, want[:], r.Logits)
}
