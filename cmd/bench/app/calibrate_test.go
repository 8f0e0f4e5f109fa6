package app

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestCalibrateCmd(t *testing.T) {
	t.Setenv("SCALEBENCH_CACHE_DIR", t.TempDir())
	args := []string{"calibrate", "--n", "22", "--reps", "1", "--skip-go-wasip1", "--progress", "never"}
	var out, errOut bytes.Buffer
	if err := Run(t.Context(), args, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "CPU-seconds per request (measured now)") {
		t.Errorf("first run:\n%s", out.String())
	}
	out.Reset()
	if err := Run(t.Context(), args, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(cached") {
		t.Errorf("second run did not use the cache:\n%s", out.String())
	}

	err := Run(t.Context(), []string{"calibrate", "--n", "50"}, &out, &errOut)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(err.Error(), "--n 50: want 2…43") {
		t.Errorf("--n 50: err = %v", err)
	}
}
