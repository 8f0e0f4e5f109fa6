package reports

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestGolden renders every fixture with WriteAll and compares each file with
// testdata/<fixture>/<file>. Run `go test ./reports -update` to rewrite them.
func TestGolden(t *testing.T) {
	fx := fixtures()
	names := make([]string, 0, len(fx))
	for name := range fx {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			golden := filepath.Join("testdata", name)
			if *update {
				if err := WriteAll(golden, fx[name]); err != nil {
					t.Fatal(err)
				}
				return
			}
			dir := t.TempDir()
			if err := WriteAll(dir, fx[name]); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{JSONFile, JUnitFile, MarkdownFile, HTMLFile} {
				got, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(filepath.Join(golden, f))
				if err != nil {
					t.Fatalf("%v (run go test ./reports -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s/%s differs from the golden file at %s (run go test ./reports -update and review the diff)",
						name, f, firstDiff(got, want))
				}
			}
		})
	}
}

// firstDiff locates the first differing line for the failure message.
func firstDiff(got, want []byte) string {
	gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := range max(len(gl), len(wl)) {
		var g, w []byte
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if !bytes.Equal(g, w) {
			return fmt.Sprintf("line %d", i+1) + ":\n got: " + clip(g) + "\nwant: " + clip(w)
		}
	}
	return "end of file"
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
