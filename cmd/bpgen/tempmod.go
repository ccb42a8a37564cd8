package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// bpgenPath is the module whose runtime generated code imports.
const bpgenPath = "github.com/bpgen/bpgen"

// tempModule is a temporary Go module in which bpgen check and bpgen train
// build a generated package and a program that uses it. It requires
// github.com/bpgen/bpgen and replaces it with the copy the module in the
// current directory uses, so the program sees the same runtime as the
// user's code, and it holds that copy's go.sum, so the build needs no
// network when the module cache has bpgen's dependencies.
type tempModule struct {
	dir   string // the module's directory
	goCmd string // the go command
}

// newTempModule creates a temporary module named name holding files (names
// relative to the module root, slash-separated, directories created as
// needed) besides its go.mod and go.sum. cmd is the bpgen command that needs
// it, named in errors ("check", "train").
func newTempModule(cmd, name string, files map[string][]byte) (*tempModule, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("%s builds a Go program and needs the go command: %w", cmd, err)
	}
	modDir, goVersion, err := locateBpgen(goCmd, cmd)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // not the name of a directory that was never made
		}
		return nil, fmt.Errorf("creating a temporary module in %s: %w", os.TempDir(), err)
	}
	t := &tempModule{dir: dir, goCmd: goCmd}
	if err := t.write(name, modDir, goVersion, files); err != nil {
		t.remove()
		return nil, err
	}
	return t, nil
}

// locateBpgen returns the directory and go version of the module
// github.com/bpgen/bpgen as the module in the current directory sees it: this
// repository itself, its replacement, or its copy in the module cache.
func locateBpgen(goCmd, cmd string) (dir, goVersion string, err error) {
	c := exec.Command(goCmd, "list", "-m", "-f", "{{.Dir}}\t{{.GoVersion}}", bpgenPath)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	dir, goVersion, _ = strings.Cut(strings.TrimSpace(string(out)), "\t")
	if err != nil || dir == "" {
		why := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(why, '\n'); i >= 0 {
			why = why[:i]
		}
		if why == "" && err == nil {
			why = "the module is not downloaded (go mod download " + bpgenPath + ")"
		} else if why == "" {
			why = err.Error()
		}
		return "", "", fmt.Errorf("cannot locate the module %s (%s): run bpgen %s inside a module that requires %s", bpgenPath, why, cmd, bpgenPath)
	}
	return dir, goVersion, nil
}

// write writes go.mod requiring bpgen and replacing it with modDir, modDir's
// go.sum and files.
func (t *tempModule) write(name, modDir, goVersion string, files map[string][]byte) error {
	var mod strings.Builder
	fmt.Fprintf(&mod, "module %s\n\n", name)
	if goVersion != "" {
		fmt.Fprintf(&mod, "go %s\n\n", goVersion)
	}
	fmt.Fprintf(&mod, "require %s v0.0.0\n\nreplace %s => %s\n", bpgenPath, bpgenPath, modDir)
	all := map[string][]byte{"go.mod": []byte(mod.String())}
	switch sum, err := os.ReadFile(filepath.Join(modDir, "go.sum")); {
	case err == nil:
		all["go.sum"] = sum
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	for name, data := range files {
		all[name] = data
	}
	for name, data := range all {
		path := filepath.Join(t.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// build builds the module's main package into an executable named name in
// the module and returns its path; what names the program in errors.
// Cancelling ctx kills the build.
func (t *tempModule) build(ctx context.Context, name, what string) (string, error) {
	exe := filepath.Join(t.dir, name)
	if filepath.Separator == '\\' {
		exe += ".exe"
	}
	build := exec.CommandContext(ctx, t.goCmd, "build", "-o", exe, ".")
	build.Dir = t.dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("building the %s in %s: %v\n%s", what, t.dir, err, strings.TrimRight(string(out), "\n"))
	}
	return exe, nil
}

// remove deletes the module.
func (t *tempModule) remove() { os.RemoveAll(t.dir) }
