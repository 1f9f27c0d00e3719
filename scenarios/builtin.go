package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtin returns the built-in scenario named name.
func Builtin(name string) (*Scenario, error) {
	data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in scenario is named %q%s: expected one of %s: %w",
			name, suggest(name, BuiltinNames()), strings.Join(BuiltinNames(), ", "), ErrNotFound)
	}
	return Load("builtin:"+name, data)
}

// ErrNotFound is wrapped when a scenario named on the command line is
// neither a built-in nor a file.
var ErrNotFound = fmt.Errorf("scenario not found")

// BuiltinNames lists the built-in scenarios, sorted.
func BuiltinNames() []string {
	entries, _ := fs.ReadDir(builtinFS, "builtin")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// Builtins loads every built-in scenario, sorted by name.
func Builtins() ([]*Scenario, error) {
	var out []*Scenario
	for _, n := range BuiltinNames() {
		sc, err := Builtin(n)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// Open loads a scenario named on a command line: a path (anything with a
// slash or a .yaml/.yml extension, or an existing file) or a built-in name.
func Open(ref string) (*Scenario, error) {
	ext := path.Ext(ref)
	if strings.ContainsRune(ref, os.PathSeparator) || strings.ContainsRune(ref, '/') || ext == ".yaml" || ext == ".yml" {
		return LoadFile(ref)
	}
	if slices.Contains(BuiltinNames(), ref) {
		return Builtin(ref)
	}
	if st, err := os.Stat(ref); err == nil && !st.IsDir() {
		return LoadFile(ref)
	}
	return Builtin(ref)
}
