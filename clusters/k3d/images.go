package k3d

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	dockerimage "github.com/docker/docker/api/types/image"
	dockerclient "github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	k3dlogger "github.com/k3d-io/k3d/v5/pkg/logger"
	k3ddocker "github.com/k3d-io/k3d/v5/pkg/runtimes/docker"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"
	k3dversion "github.com/k3d-io/k3d/v5/version"
	"github.com/sirupsen/logrus"
)

// LibraryVersion is the k3d Go library's version (go.mod). k3d's own
// binary has it set at build time; a program using the library must set it,
// or k3d labels the cluster "v5-dev" and runs its load balancer and tools
// containers from the unpinned ":latest" helper images.
const LibraryVersion = "v5.9.0"

func init() {
	if k3dversion.Version == "" {
		k3dversion.Version = LibraryVersion
	}
}

// Images are the images a cluster of c runs: the node image, k3d's load
// balancer and its tools container, in the order Create pulls them.
func (c Config) Images() []string {
	return []string{c.Image, k3dtypes.GetLoadbalancerImage(), k3dtypes.GetToolsImage()}
}

// ImagePuller makes images present in the container runtime k3d uses.
type ImagePuller interface {
	// EnsureImage pulls image unless the runtime has it already (a node
	// image built locally need not be in any registry).
	EnsureImage(ctx context.Context, image string) error
}

// dockerImages pulls with the Docker client k3d itself uses (the same
// DOCKER_HOST, docker context and credentials).
type dockerImages struct{}

func (dockerImages) EnsureImage(ctx context.Context, image string) error {
	cli, err := k3ddocker.GetDockerClient()
	if err != nil {
		return err
	}
	defer cli.Close()
	if _, err := cli.ImageInspect(ctx, image); err == nil {
		return nil
	} else if !dockerclient.IsErrNotFound(err) {
		return err
	}
	rc, err := cli.ImagePull(ctx, image, dockerimage.PullOptions{})
	if err != nil {
		return err
	}
	defer rc.Close()
	// A pull that starts can still fail (a layer, a digest): the error is
	// in the progress stream, which k3d's own pull discards.
	return jsonmessage.DisplayJSONMessagesStream(rc, io.Discard, 0, false, nil)
}

// ensureImages pulls every image the cluster runs before anything is
// created, so an image that cannot be pulled stops the run with its name
// and a hint and leaves no network, volume or container behind (k3d
// creates its network and image volume first, and pulls the tools image in
// the background, where a failure elsewhere does not wait for it).
func ensureImages(ctx context.Context, p ImagePuller, c Config, w io.Writer) error {
	for _, img := range c.Images() {
		progress(w, "k3d: image %s", img)
		if err := p.EnsureImage(ctx, img); err != nil {
			return fmt.Errorf("k3d: cluster %q: pull image %s: %w%s", c.Name, img, err, imageHint(img, c.Image))
		}
	}
	return nil
}

// imageHint says what to do about an image that cannot be pulled.
func imageHint(img, nodeImage string) string {
	if img == nodeImage {
		return fmt.Sprintf(" (hint: the node image could not be pulled: check the registry is reachable (docker pull %s), or pass another image with --node-image)", img)
	}
	return fmt.Sprintf(" (hint: k3d's helper image could not be pulled: check the registry is reachable (docker pull %s), or set %s / %s to a reachable copy)", img, k3dtypes.K3dEnvImageLoadbalancer, k3dtypes.K3dEnvImageTools)
}

// k3dLogs sends what k3d logs (through its global logrus logger, to stderr
// by default) to log: its info lines at debug level, as the kind provider
// does with kind's, since progress lines say what happens.
func k3dLogs(log *slog.Logger) {
	k3dlogger.Log().SetOutput(io.Discard)
	k3dlogger.Log().ReplaceHooks(logrus.LevelHooks{})
	k3dlogger.Log().AddHook(slogHook{log})
}

type slogHook struct{ l *slog.Logger }

func (slogHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h slogHook) Fire(e *logrus.Entry) error {
	level := slog.LevelDebug
	switch {
	case e.Level <= logrus.ErrorLevel:
		level = slog.LevelError
	case e.Level == logrus.WarnLevel:
		level = slog.LevelWarn
	}
	h.l.Log(context.Background(), level, "k3d: "+e.Message)
	return nil
}
