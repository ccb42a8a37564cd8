//go:build purego || !amd64

package runtime

// simdPaths lists the kernel paths this build can run: only the pure-Go one.
func simdPaths() []string { return []string{"generic"} }

// setSIMDPath is a no-op in this build (there is one path) and returns it.
func setSIMDPath(string) string { return "generic" }
