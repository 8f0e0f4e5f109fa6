package scenario

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/scalebench/scalebench/fixtures"
)

// Builtins returns the built-in scenarios, sorted by name.
func Builtins() ([]*Scenario, error) {
	entries, err := fs.ReadDir(fixtures.Scenarios, "scenarios")
	if err != nil {
		return nil, fmt.Errorf("built-in scenarios: %w", err)
	}
	var out []*Scenario
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		b, err := fs.ReadFile(fixtures.Scenarios, path.Join("scenarios", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("built-in scenario %s: %w", e.Name(), err)
		}
		s, err := Parse(b, "builtin:"+strings.TrimSuffix(e.Name(), ".yaml"))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Metadata.Name < out[j].Metadata.Name })
	return out, nil
}

// BuiltinNames lists the built-in scenarios' names.
func BuiltinNames() []string {
	bs, err := Builtins()
	if err != nil {
		return nil
	}
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = b.Metadata.Name
	}
	return names
}

// Resolve resolves a built-in scenario by name, or reads a scenario file by path.
// A name that is neither is an error listing the built-ins.
func Resolve(nameOrPath string) (*Scenario, error) {
	if !strings.ContainsAny(nameOrPath, "/\\") && !strings.HasSuffix(nameOrPath, ".yaml") && !strings.HasSuffix(nameOrPath, ".yml") {
		bs, err := Builtins()
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			if b.Metadata.Name == nameOrPath {
				return b, nil
			}
		}
		if _, err := os.Stat(nameOrPath); err != nil {
			return nil, fmt.Errorf("scenario %q: not a built-in scenario (built-ins: %s) and not a file", nameOrPath, strings.Join(BuiltinNames(), ", "))
		}
	}
	b, err := os.ReadFile(nameOrPath)
	if err != nil {
		return nil, fmt.Errorf("scenario file: %w", err)
	}
	return Parse(b, nameOrPath)
}
