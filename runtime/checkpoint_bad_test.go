package runtime

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goodCheckpoint returns a checkpoint of a float64 ckModelW run with adam
// and early stopping, stopped in its second epoch, and the config.
func goodCheckpoint(t testing.TB, dir string) ([]byte, TrainConfig) {
	xs, ys := ckData(47)
	m := &ckModelW[float64]{*newCkModel[float64]()}
	cfg := ckConfig("adam", 1)
	cfg.Checkpoint = filepath.Join(dir, "good.safetensors")
	stop := make(chan struct{})
	cfg.Stop = stop
	n := 0
	cfg.OnBatch = func(int, int, float64) {
		if n++; n == 11 {
			close(stop)
		}
	}
	if _, err := Fit[float64](m, xs, ys, cfg); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(cfg.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	// Fix the wall times, so that the file is the same on every run.
	b = rewrite(t, b, func(mt *ckptMeta, es *[]SafetensorsEntry) {
		mt.ElapsedNS = 250_000_000
		for i := range mt.History {
			mt.History[i].DurationNS, mt.History[i].SamplesPerSec = 1_000_000_000, 38
		}
	})
	return b, ckConfig("adam", 1)
}

// rewrite parses a checkpoint, lets mutate change its metadata and
// entries, and writes it again with a fresh checksum (unless mutate sets
// one).
func rewrite(t testing.TB, b []byte, mutate func(mt *ckptMeta, es *[]SafetensorsEntry)) []byte {
	f, err := ParseSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	var mt ckptMeta
	if err := json.Unmarshal([]byte(f.Metadata[checkpointKey]), &mt); err != nil {
		t.Fatal(err)
	}
	es := make([]SafetensorsEntry, len(f.Entries))
	for i, e := range f.Entries {
		e.Data = bytes.Clone(e.Data)
		es[i] = e
	}
	old := mt.DataSHA256
	mutate(&mt, &es)
	if mt.DataSHA256 == old {
		mt.DataSHA256 = dataSHA256(es)
	}
	js, _ := json.Marshal(mt)
	var out bytes.Buffer
	if err := writeRawSafetensors(&out, es, map[string]string{checkpointKey: string(js)}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// entry returns the entry named name.
func entry(es []SafetensorsEntry, name string) *SafetensorsEntry {
	for i := range es {
		if es[i].Name == name {
			return &es[i]
		}
	}
	panic(name)
}

func setF64(e *SafetensorsEntry, i int, v float64) {
	binary.LittleEndian.PutUint64(e.Data[8*i:], math.Float64bits(v))
}

func TestCheckpointRefusals(t *testing.T) {
	dir := t.TempDir()
	good, cfg := goodCheckpoint(t, dir)
	xs, ys := ckData(47)
	var weights bytes.Buffer
	(&ckModelW[float64]{*newCkModel[float64]()}).WriteSafetensors(&weights)
	// A float32 run's checkpoint.
	xs32 := &ckModelW[float32]{*newCkModel[float32]()}
	cfg32 := ckConfig("adam", 1)
	cfg32.Epochs, cfg32.Checkpoint = 1, filepath.Join(dir, "f32")
	if _, err := Fit[float32](xs32, xs, ys, cfg32); err != nil {
		t.Fatal(err)
	}
	f32, _ := os.ReadFile(cfg32.Checkpoint)

	type tc struct {
		name string
		data []byte
		cfg  func(*TrainConfig)
		want string
	}
	// The header's length and the checksums depend on the losses in the
	// JSON and the trained values (which may differ across platforms).
	hlen := binary.LittleEndian.Uint64(good)
	gf, _ := ParseSafetensors(good)
	goodSum := dataSHA256(gf.Entries)
	corrupted := bytes.Clone(good)
	corrupted[len(corrupted)-100] ^= 1
	cf, _ := ParseSafetensors(corrupted)
	corruptSum := dataSHA256(cf.Entries)
	mut := func(f func(mt *ckptMeta, es *[]SafetensorsEntry)) []byte { return rewrite(t, good, f) }
	cases := []tc{
		{"empty", nil, nil, "safetensors: file is 0 bytes, shorter than the 8-byte header length"},
		{"truncated header", good[:100], nil, fmt.Sprintf("safetensors: header length %d runs past the end of the file (92 bytes follow the length)", hlen)},
		{"truncated data", good[:len(good)-9], nil, `safetensors: tensor "shuffle/idx": data_offsets [314 618] run past the end of the 609-byte data buffer`},
		{"a weight file", weights.Bytes(), nil, `not a checkpoint: no "bpgen.checkpoint" metadata (a weight file? start from weights with -init / ReadSafetensors)`},
		{"corrupted data", corrupted, nil, fmt.Sprintf("checkpoint is corrupted: its tensor data has SHA-256 %s, the metadata says %s", corruptSum, goodSum)},
		{"metadata not JSON", func() []byte {
			f, _ := ParseSafetensors(good)
			var out bytes.Buffer
			writeRawSafetensors(&out, f.Entries, map[string]string{checkpointKey: "{epoch: 1"})
			return out.Bytes()
		}(), nil, "checkpoint metadata is not valid JSON: invalid character 'e' looking for beginning of object key string"},
		{"unknown metadata field", func() []byte {
			f, _ := ParseSafetensors(good)
			js := strings.Replace(f.Metadata[checkpointKey], `"epoch":`, `"epoch_x":0,"epoch":`, 1)
			var out bytes.Buffer
			writeRawSafetensors(&out, f.Entries, map[string]string{checkpointKey: js})
			return out.Bytes()
		}(), nil, `checkpoint metadata is not valid JSON: json: unknown field "epoch_x"`},
		{"version", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) { mt.Version = 2 }), nil,
			"checkpoint version 2; this bpgen reads version 1"},
		{"another dtype", f32, nil, "checkpoint of a float32 model (F32), this model is float64 (F64)"},
		{"another network", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) { entry(*es, "model/quad.weight").Name = "model/conv.weight" }), nil,
			"model tensor \"quad.weight\" missing from the checkpoint\ncheckpoint tensor \"model/conv.weight\" is not in the model (a checkpoint of another network?)"},
		{"another shape", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) { entry(*es, "model/lin.weight").Shape = []int{1, 3} }), nil,
			`model tensor "lin.weight": shape [1 3] in the checkpoint, the model's is [3]`},
		{"NaN parameter", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) { setF64(entry(*es, "model/lin.weight"), 1, math.NaN()) }), nil,
			`model tensor "lin.weight" holds NaN at element 1`},
		{"optimizer mismatch", good, func(c *TrainConfig) { c.Optimizer.Type = "momentum" }, "checkpoint of a run with other settings: optimizer adam in the checkpoint, momentum in this run"},
		{"batch differs", good, func(c *TrainConfig) { c.Batch = 4 }, "checkpoint of a run with other settings: batch 5 in the checkpoint, 4 in this run"},
		{"other data", good, func(c *TrainConfig) { c.ValidationSplit = 0.1 }, "checkpoint of a run with other settings: validation_split 0.2 in the checkpoint, 0.1 in this run"},
		{"NaN moment", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) { setF64(entry(*es, "optimizer/exp_avg"), 2, math.NaN()) }), nil,
			`optimizer: buffer "exp_avg" holds NaN at element 2`},
		{"negative second moment", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) { setF64(entry(*es, "optimizer/exp_avg_sq"), 0, -1) }), nil,
			`optimizer: buffer "exp_avg_sq" holds -1 at element 0, but it sums squares`},
		{"moments of another optimizer", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) {
			entry(*es, "optimizer/exp_avg").Name = "optimizer/momentum_buffer"
		}), nil,
			`checkpoint tensor "optimizer/exp_avg" missing`},
		{"missing best weights", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) { entry(*es, "best/params").Name = "best/param" }), nil,
			`checkpoint tensor "best/params" missing`},
		{"missing generator", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) { entry(*es, "rng/shuffle").Name = "rng/shuffled" }), nil,
			`checkpoint tensor "rng/shuffle" missing`},
		{"zero generator", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) { clear(entry(*es, "rng/dropout.0").Data) }), nil,
			`checkpoint tensor "rng/dropout.0": rng: state is all zeros`},
		{"generator of wrong dtype", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) { entry(*es, "rng/shuffle").DType = "I8" }), nil,
			`checkpoint tensor "rng/shuffle": dtype I8, want U8`},
		{"order not a permutation", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) {
			e := entry(*es, "shuffle/idx")
			copy(e.Data[8:16], e.Data[0:8])
		}), nil, `checkpoint tensor "shuffle/idx" is not a permutation of the 38 training samples (element 1 is 16)`},
		{"extra tensor", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) {
			*es = append(*es, SafetensorsEntry{Name: "extra", DType: "U8", Shape: []int{1}, Data: []byte{1}})
		}), nil, `checkpoint tensor "extra" is not part of a checkpoint of this run`},
		{"position past the epoch", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) { mt.Step = 8 }), nil,
			"checkpoint is at step 8 of an epoch of 8 minibatches"},
		{"history too short", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) { mt.History = nil }), nil,
			"checkpoint metadata: 0 epochs in the history, but the position is epoch 2"},
		{"past the epochs", good, func(c *TrainConfig) { c.Epochs = 1 }, "checkpoint is at epoch 2, past the 1 epochs of this run"},
		{"dropout generators", mut(func(mt *ckptMeta, es *[]SafetensorsEntry) { mt.DropoutRNGs = 2 }), nil,
			"checkpoint holds 2 dropout generators, this run has 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.safetensors")
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			m := &ckModelW[float64]{*newCkModel[float64]()}
			before := weightsOf(&m.ckModel)
			rc := cfg
			if c.cfg != nil {
				c.cfg(&rc)
			}
			rc.Resume = path
			_, err := Fit[float64](m, xs, ys, rc)
			want := "resume " + path + ": " + c.want
			if err == nil || err.Error() != want {
				t.Errorf("got %v\nwant %s", err, want)
			} else {
				t.Log(err)
			}
			if !bytes.Equal(weightsOf(&m.ckModel), before) {
				t.Errorf("a refused checkpoint changed the model")
			}
		})
	}
	if len(cases) < 15 {
		t.Fatalf("%d cases", len(cases))
	}
}

// FuzzCheckpoint feeds the checkpoint reader arbitrary files: it must
// never panic, and whatever it accepts must resume a run.
func FuzzCheckpoint(f *testing.F) {
	dir := f.TempDir()
	good, _ := goodCheckpoint(f, dir)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	xs, ys := ckData(47)
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := parseCheckpoint(data); err != nil {
			return
		}
		path := filepath.Join(t.TempDir(), "ck")
		os.WriteFile(path, data, 0o644)
		m := &ckModelW[float64]{*newCkModel[float64]()}
		cfg := ckConfig("adam", 1)
		cfg.Resume = path
		Fit[float64](m, xs, ys, cfg) // an error or a run; no panic
	})
}

// FuzzCheckpointMetadata fuzzes the JSON of a valid checkpoint, with the
// checksum kept right, so that the checks after it (positions, counts,
// history, settings) are explored: an error or a run, never a panic.
func FuzzCheckpointMetadata(f *testing.F) {
	dir := f.TempDir()
	good, _ := goodCheckpoint(f, dir)
	gf, err := ParseSafetensors(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(gf.Metadata[checkpointKey]))
	f.Add([]byte(`{"format":"bpgen-checkpoint","version":1,"dtype":"F64","epoch":0}`))
	xs, ys := ckData(47)
	f.Fuzz(func(t *testing.T, js []byte) {
		var mt ckptMeta
		if json.Unmarshal(js, &mt) != nil {
			return
		}
		mt.DataSHA256 = dataSHA256(gf.Entries)
		b, _ := json.Marshal(mt)
		var out bytes.Buffer
		writeRawSafetensors(&out, gf.Entries, map[string]string{checkpointKey: string(b)})
		path := filepath.Join(t.TempDir(), "ck")
		os.WriteFile(path, out.Bytes(), 0o644)
		m := &ckModelW[float64]{*newCkModel[float64]()}
		cfg := ckConfig("adam", 1)
		cfg.Resume = path
		Fit[float64](m, xs, ys, cfg)
	})
}
