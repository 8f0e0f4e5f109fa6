package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// Bounds of each container log the diagnostics keep: its last LogTailLines
// lines, at most LogLimitBytes.
const (
	LogTailLines  = 2000
	LogLimitBytes = 2 << 20
)

// LogTimeout bounds each log request: the API server dials the pod's kubelet, which may not answer (an
// unreachable node, a name the API server cannot resolve), and diagnostics must not wait for its dial timeout.
const LogTimeout = 10 * time.Second

// LogErrorsFile lists, in a logs folder, each log that could not be read and why.
const LogErrorsFile = "errors.txt"

// PodLogs writes, through the API server (pods/log), the log of every
// container of every pod in namespaces into dir/<namespace>/<pod>.<container>.log,
// and the previous instance's into ….previous.log for a container that
// restarted, each bounded by LogTailLines, LogLimitBytes and LogTimeout. A namespace
// that does not exist has nothing to write. A log that cannot be read (the
// kubelet does not answer, the container never started) is listed in
// dir/errors.txt and joined into the error; the others are written all the
// same.
func PodLogs(ctx context.Context, c kubernetes.Interface, namespaces []string, dir string) error {
	var errs, notes []string
	written := 0
	for _, ns := range namespaces {
		pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			errs = append(errs, fmt.Sprintf("list pods in %s: %v", ns, err))
			continue
		}
		for _, p := range pods.Items {
			for _, ctr := range append(slices.Clone(p.Spec.InitContainers), p.Spec.Containers...) {
				restarted := false
				for _, st := range append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...) {
					if st.Name == ctr.Name && st.RestartCount > 0 {
						restarted = true
					}
				}
				for _, previous := range []bool{false, true} {
					if previous && !restarted {
						continue
					}
					name := p.Name + "." + ctr.Name
					if previous {
						name += ".previous"
					}
					path := filepath.Join(dir, ns, name+".log")
					if err := podLog(ctx, c, &p, ctr.Name, previous, path); err != nil {
						errs = append(errs, fmt.Sprintf("log of %s/%s container %s%s: %v", ns, p.Name, ctr.Name, map[bool]string{true: " (previous)"}[previous], err))
						continue
					}
					written++
				}
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	notes = append(notes, fmt.Sprintf("%d logs written, %d could not be read:", written, len(errs)))
	notes = append(notes, errs...)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Join(err, errors.New(strings.Join(errs, "; ")))
	}
	werr := os.WriteFile(filepath.Join(dir, LogErrorsFile), []byte(strings.Join(notes, "\n")+"\n"), 0o644)
	return errors.Join(fmt.Errorf("pod logs: %d could not be read (see %s): %s", len(errs), LogErrorsFile, strings.Join(errs, "; ")), werr)
}

func podLog(ctx context.Context, c kubernetes.Interface, p *corev1.Pod, container string, previous bool, path string) error {
	ctx, cancel := context.WithTimeout(ctx, LogTimeout)
	defer cancel()
	rc, err := c.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{
		Container: container, Previous: previous, Timestamps: true,
		TailLines: ptr.To[int64](LogTailLines), LimitBytes: ptr.To[int64](LogLimitBytes),
	}).Stream(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	// LimitBytes is the server's bound; this one holds against a server that ignores it.
	_, err = io.Copy(f, io.LimitReader(rc, LogLimitBytes))
	return errors.Join(err, f.Close())
}
