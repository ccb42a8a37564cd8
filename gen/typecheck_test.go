package gen

import (
	"errors"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"sync"
)

// The importer typeCheck uses: it type-checks imported packages from source
// (github.com/bpgen/bpgen/runtime, found through the go command from this
// module, and the standard library) once per process and keeps them.
var (
	tcMu       sync.Mutex
	tcImporter types.ImporterFrom
)

// typeCheck parses src as the single file of a package and type-checks it
// the way the compiler would, without compiling: it returns the syntax or
// type errors (all of them, joined), or nil. Positions name the file as
// filename.
func typeCheck(filename string, src []byte) error {
	tcMu.Lock()
	defer tcMu.Unlock()
	if tcImporter == nil {
		// The importer keeps positions in its own file set; the checked file
		// gets a fresh one each time, so that memory does not grow with the
		// number of files checked (fuzzing checks many).
		tcImporter = importer.ForCompiler(token.NewFileSet(), "source", nil).(types.ImporterFrom)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	var errs []error
	conf := types.Config{
		Importer: tcImporter,
		Error: func(err error) {
			if len(errs) < 10 {
				errs = append(errs, err)
			}
		},
	}
	_, _ = conf.Check(f.Name.Name, fset, []*ast.File{f}, nil)
	return errors.Join(errs...)
}
