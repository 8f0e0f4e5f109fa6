package app

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Known secret values go in through every input a run reads credentials
// from — the AWS environment (keys and session token) and a kubeconfig
// (client key and bearer token; scenarios have no credential field) — and
// none may come out: not in any file of the run folder, not on stdout or
// stderr. The run targets an existing cluster whose API server port is
// closed, so it fails early but still writes its reports; `bench plan` and
// `--dry-run`, which print every manifest (the SQS Secret among them), are
// searched too.
func TestSecretsNeverReachOutputs(t *testing.T) {
	secrets := map[string]string{
		"AWS_ACCESS_KEY_ID":     "AKIASCALEBENCHLEAK01",
		"AWS_SECRET_ACCESS_KEY": "sbLeakSecretAccessKey0123456789abcdefXYZ",
		"AWS_SESSION_TOKEN":     "sbLeakSessionToken0123456789FwoGZXIvYXdzEXAMPLE",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	keyPEM, certPEM := clientKeyPair(t)
	token := "sb-leak-bearer-token-0123456789abcdef"
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: closed
  cluster: {server: "https://`+closedAddr(t)+`", insecure-skip-tls-verify: true}
users:
- name: leaky
  user:
    token: `+token+`
    client-certificate-data: `+base64.StdEncoding.EncodeToString(certPEM)+`
    client-key-data: `+base64.StdEncoding.EncodeToString(keyPEM)+`
contexts:
- name: leaky
  context: {cluster: closed, user: leaky}
current-context: leaky
`), 0o600); err != nil {
		t.Fatal(err)
	}
	// What must never appear: each value as given, the key as the
	// kubeconfig carries it (base64) and as PEM (its first body line).
	needles := map[string]string{"kubeconfig token": token, "client-key-data": base64.StdEncoding.EncodeToString(keyPEM)}
	for k, v := range secrets {
		needles[k] = v
	}
	if lines := strings.Split(string(keyPEM), "\n"); len(lines) > 2 {
		needles["client key (PEM)"] = lines[1]
	}

	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Main(ctx, []string{"run", "--cluster", "existing", "--kubeconfig", kubeconfig, "--scenario", "keda-sqs", "--scenario", "hpa-cpu", "--out", out}, &stdout, &stderr)
	if code != ExitHarness {
		t.Errorf("exit %d, want %d (the API server does not answer); stderr:\n%s", code, ExitHarness, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, "report.json")); err != nil {
		t.Fatalf("the failed run wrote no report: %v", err)
	}
	texts := map[string][]byte{"run stdout": stdout.Bytes(), "run stderr": stderr.Bytes()}
	for _, args := range [][]string{
		{"plan", "--cluster", "existing", "--kubeconfig", kubeconfig, "--scenario", "keda-sqs"},
		{"run", "--dry-run", "--cluster", "k3d", "--scenario", "keda-sqs"},
	} {
		var o, e bytes.Buffer
		Main(ctx, args, &o, &e)
		texts[strings.Join(args[:2], " ")+" stdout"] = o.Bytes()
		texts[strings.Join(args[:2], " ")+" stderr"] = e.Bytes()
	}
	files := 0
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		texts[path] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 4 {
		t.Errorf("%d files in the run folder, want the reports at least", files)
	}
	// The search sees real content: the error naming the closed API server
	// reached stderr, and the scenarios reached report.json.
	if !bytes.Contains(texts["run stderr"], []byte("127.0.0.1")) || !bytes.Contains(texts[filepath.Join(out, "report.json")], []byte("keda-sqs")) {
		t.Errorf("the outputs searched lack what they must hold (the API server's address on stderr, the scenario in report.json); stderr:\n%s", stderr.String())
	}
	for where, data := range texts {
		for what, v := range needles {
			if bytes.Contains(data, []byte(v)) {
				t.Errorf("%s leaks %s", where, what)
			}
		}
	}
	t.Logf("searched %d run-folder files and %d captured outputs for %d secret values", files, len(texts)-files, len(needles))
}

// clientKeyPair is a throwaway client key and self-signed certificate, PEM.
func clientKeyPair(t *testing.T) (keyPEM, certPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "leaky"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
