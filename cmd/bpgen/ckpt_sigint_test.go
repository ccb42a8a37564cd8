//go:build unix

package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrainCheckpointInterrupt interrupts bpgen train -checkpoint with a
// real SIGINT, resumes it with -resume and compares the weights with an
// uninterrupted run's; the -log of the resumed run covers every epoch.
func TestTrainCheckpointInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three trainer programs")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	spec := writeSpec(t, "blobs.yaml", classifierSpec)
	data := filepath.Join(dir, "d.csv")
	xs, ys := blobs(20000, 4)
	require.NoError(t, os.WriteFile(data, []byte(blobsCSV(xs, ys)), 0o644))
	ck := filepath.Join(dir, "run.ckpt")
	common := []string{"-data", data, "-epochs", "40", "-val", "0.1", "-patience", "50"}

	cmd := exec.Command(exe, append([]string{"train", "-checkpoint", ck, "-o", filepath.Join(dir, "a.safetensors")}, append(common, spec)...)...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()
	timeout := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timeout.Stop()
	var stdout strings.Builder
	lines := bufio.NewScanner(out)
	signalled := false
	for lines.Scan() {
		stdout.WriteString(lines.Text() + "\n")
		if !signalled && strings.HasPrefix(lines.Text(), "epoch 2/40 ") {
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
			signalled = true
		}
	}
	err = cmd.Wait()
	t.Logf("interrupted run:\n%s%s", stdout.String(), stderr.String())
	require.True(t, signalled)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 130, exit.ExitCode())
	require.FileExists(t, ck)

	resumed := filepath.Join(dir, "b.safetensors")
	log := filepath.Join(dir, "log.csv")
	code, so, se := runCmd(append([]string{"train", "-checkpoint", ck, "-resume", ck, "-o", resumed, "-log", log}, append(common, spec)...)...)
	require.Equal(t, 0, code, so+se)
	t.Logf("resumed run:\n%s", so)
	assert.Contains(t, so, "parameters, float32), resuming "+ck+" on "+data+"\n")
	ref := filepath.Join(dir, "c.safetensors")
	code, so, se = runCmd(append([]string{"train", "-o", ref}, append(common, spec)...)...)
	require.Equal(t, 0, code, so+se)
	a, _ := os.ReadFile(resumed)
	b, _ := os.ReadFile(ref)
	assert.True(t, bytes.Equal(a, b), "the resumed run's weights differ from the uninterrupted run's")
	assert.Len(t, readHistory(t, log), 40, "the log covers every epoch")
}
