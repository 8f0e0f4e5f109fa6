package k3d

import (
	"context"
	"errors"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/scalebench/scalebench/clusters"
)

// The version k3d labels clusters with and tags its helper images by is the
// library's version in go.mod, not "v5-dev" and ":latest".
func TestLibraryVersionIsGoMods(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("no build information in this test binary")
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/k3d-io/k3d/v5" && d.Version != LibraryVersion {
			t.Errorf("go.mod has k3d %s, LibraryVersion is %s", d.Version, LibraryVersion)
		}
	}
	for _, img := range ConfigFor(clusters.Options{}).Images()[1:] {
		if !strings.HasSuffix(img, ":"+strings.TrimPrefix(LibraryVersion, "v")) {
			t.Errorf("helper image %s is not tagged with the library's version", img)
		}
	}
}

type fakePuller struct {
	fail   map[string]error
	pulled []string
}

func (f *fakePuller) EnsureImage(_ context.Context, img string) error {
	f.pulled = append(f.pulled, img)
	return f.fail[img]
}

// An image that cannot be pulled stops at once, naming the image and the
// hint that fits it (the node image: --node-image; a helper image: k3d's
// environment variables).
func TestEnsureImagesNamesTheImageAndAHint(t *testing.T) {
	c := ConfigFor(clusters.Options{RunID: "r-1"})
	imgs := c.Images()
	down := errors.New("dial tcp: lookup ghcr.io: no such host")
	cases := []struct {
		failing, hint string
		pulled        int
	}{
		{imgs[0], "--node-image", 1},
		{imgs[1], "K3D_IMAGE_LOADBALANCER", 2},
		{"", "", 3},
	}
	for _, tc := range cases {
		p := &fakePuller{fail: map[string]error{tc.failing: down}}
		err := ensureImages(context.Background(), p, c, nil)
		if len(p.pulled) != tc.pulled {
			t.Errorf("failing %q: pulled %v, want the first %d", tc.failing, p.pulled, tc.pulled)
		}
		if tc.failing == "" {
			if err != nil {
				t.Errorf("every image pulled: %v", err)
			}
			continue
		}
		if err == nil || !errors.Is(err, down) || !strings.Contains(err.Error(), "pull image "+tc.failing) || !strings.Contains(err.Error(), tc.hint) {
			t.Errorf("failing %q: %v; want the image, the cause and a hint naming %s", tc.failing, err, tc.hint)
		}
	}
}
