// A module that uses bpgen as a user would: cmd/bpgen's e2e test copies it to
// a temporary directory and rewrites the replace directive to the absolute
// path of this repository.
module example.com/digits

go 1.26

require github.com/bpgen/bpgen v0.0.0

replace github.com/bpgen/bpgen => ../..
