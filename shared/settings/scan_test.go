package settings

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"eventrelay.dev/eventrelay/internal/modroot"
)

// envName is how a variable's name looks: upper case, with an underscore.
var envName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$`)

// passedThrough are variables the code hands to a child process as they
// are (the Lambda emulator's PATH): not settings of ours.
var passedThrough = []string{"PATH", "HOME"}

// read is one place the code reads a variable by name.
type read struct {
	pos  string
	name string // "" when the name is not a constant
}

// readsByName finds, in the Go files under root (tests, testdata and other
// modules left out), every read of an environment variable by name:
//   - os.Getenv / os.LookupEnv / syscall.Getenv with a constant name (a
//     literal, or a string constant of the same package) or any other
//     argument, reported with an empty name;
//   - a literal name passed first to a method called like shared/config's
//     getters (String, Required, OneOf, Int, Duration, List, Bool, Fail):
//     the way settings were read before the registry.
func readsByName(t *testing.T, root string) []read {
	t.Helper()
	var out []read
	fset := token.NewFileSet()
	byDir := map[string][]*ast.File{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
				return filepath.SkipDir // another module (tools/)
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, files := range byDir {
		consts := stringConsts(files)
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pos := fset.Position(call.Pos())
				rel, _ := filepath.Rel(root, pos.Filename)
				where := fmt.Sprintf("%s:%d", rel, pos.Line)
				arg := call.Args[0]
				if pkg, ok := sel.X.(*ast.Ident); ok && (pkg.Name == "os" && (sel.Sel.Name == "Getenv" || sel.Sel.Name == "LookupEnv") ||
					pkg.Name == "syscall" && sel.Sel.Name == "Getenv") {
					name, _ := constString(arg, consts)
					out = append(out, read{where, name})
					return true
				}
				switch sel.Sel.Name {
				case "String", "Required", "OneOf", "Int", "Duration", "List", "Bool", "Fail":
					if lit, ok := arg.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if s, err := strconv.Unquote(lit.Value); err == nil && envName.MatchString(s) {
							out = append(out, read{where, s})
						}
					}
				}
				return true
			})
		}
	}
	slices.SortFunc(out, func(a, b read) int { return strings.Compare(a.pos, b.pos) })
	return out
}

// stringConsts are the package's string constants declared with a literal.
func stringConsts(files []*ast.File) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							out[n.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	}
	return out
}

func constString(e ast.Expr, consts map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.Ident:
		s, ok := consts[e.Name]
		return s, ok
	}
	return "", false
}

// undeclared are the reads of variables the registry does not declare, and
// the reads whose name cannot be known.
func undeclared(reads []read) []string {
	var bad []string
	for _, r := range reads {
		switch _, ok := Lookup(r.name); {
		case r.name == "":
			bad = append(bad, r.pos+": reads a variable whose name is not a constant; read a declared setting instead")
		case !ok && !slices.Contains(passedThrough, r.name):
			bad = append(bad, fmt.Sprintf("%s: reads %s, which shared/settings does not declare", r.pos, r.name))
		}
	}
	return bad
}

// TestEveryReadIsDeclared: no code reads an environment variable that the
// registry does not declare. Declare a new setting in shared/settings and
// read it through its declaration (settings.X.Get(env)).
func TestEveryReadIsDeclared(t *testing.T) {
	reads := readsByName(t, modroot.Find())
	if len(reads) == 0 {
		t.Fatal("the scan found no reads at all: it is looking in the wrong place")
	}
	for _, problem := range undeclared(reads) {
		t.Error(problem)
	}
}

// TestScanFindsUndeclaredReads: the scan itself catches each way of reading
// an undeclared variable, planted in testdata/undeclared.
func TestScanFindsUndeclaredReads(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("testdata", "undeclared"))
	got := undeclared(readsByName(t, root))
	want := []string{
		"planted.go:14: reads NOT_DECLARED_GETENV, which shared/settings does not declare",
		"planted.go:15: reads NOT_DECLARED_LOOKUP, which shared/settings does not declare",
		"planted.go:16: reads NOT_DECLARED_CONST, which shared/settings does not declare",
		"planted.go:17: reads a variable whose name is not a constant; read a declared setting instead",
		"planted.go:18: reads NOT_DECLARED_INT, which shared/settings does not declare",
		"planted.go:19: reads NOT_DECLARED_FAIL, which shared/settings does not declare",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the scan of the planted reads found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// readElsewhere are the declared settings that the Go runtime or a client
// library reads, not our code.
var readElsewhere = map[string]string{
	"GoGC":                         "the Go runtime",
	"GoMemLimit":                   "the Go runtime",
	"AWSEndpointURLSQS":            "the AWS SDK",
	"AWSEndpointURLSecretsManager": "the AWS SDK",
	"AWSEndpointURLDynamoDB":       "the AWS SDK",
}

// TestEveryDeclarationIsRead: each declared setting is read by the code
// (settings.X outside this package), or by the runtime or a library named
// in readElsewhere; a setting the code stopped reading is a stale row in
// the docs and a dead Terraform variable.
func TestEveryDeclarationIsRead(t *testing.T) {
	root := modroot.Find()
	fset := token.NewFileSet()
	declared := map[string]bool{}
	used := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		inSettings := f.Name.Name == "settings"
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				if inSettings && len(n.Values) == 1 {
					if call, ok := n.Values[0].(*ast.CallExpr); ok {
						if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "declare" {
							declared[n.Names[0].Name] = true
						}
					}
				}
			case *ast.SelectorExpr:
				if pkg, ok := n.X.(*ast.Ident); ok && pkg.Name == "settings" && !inSettings {
					used[n.Sel.Name] = true
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(declared) != len(registry) {
		t.Fatalf("the scan found %d declarations, the registry holds %d", len(declared), len(registry))
	}
	for name := range declared {
		if !used[name] && readElsewhere[name] == "" {
			t.Errorf("settings.%s is declared but nothing reads it: read it, or drop the declaration (and its Terraform variable)", name)
		}
	}
}
