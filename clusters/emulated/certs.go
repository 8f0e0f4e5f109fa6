package emulated

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// kedaCerts is what KEDA's operator keeps in the Secret keda/kedaorg-certs
// (github.com/open-policy-agent/cert-controller's rotator): a CA and a serving
// certificate for the operator's gRPC server, the metrics adapter and the
// admission webhooks.
type kedaCerts struct {
	CACert, CAKey, TLSCert, TLSKey []byte
}

// KEDA's CertManager settings (cmd/operator/main.go) that the rotator checks
// a certificate against before deciding to regenerate it — and exit.
const (
	kedaCAName        = "KEDA"
	kedaCAOrg         = "KEDAORG"
	kedaCertSecret    = "kedaorg-certs"
	kedaClusterDomain = "cluster.local"
)

// kedaDNSNames are the serving certificate's SANs, in the rotator's order:
// each service as <svc>, <svc>.<ns>, <svc>.<ns>.svc, <svc>.<ns>.svc.<domain>.
// The first one is what the rotator verifies.
func kedaDNSNames(namespace string, services ...string) []string {
	var out []string
	for _, s := range services {
		out = append(out,
			s,
			s+"."+namespace,
			s+"."+namespace+".svc",
			s+"."+namespace+".svc."+kedaClusterDomain,
		)
	}
	return out
}

// generateKEDACerts creates a CA and a serving certificate that KEDA's cert
// rotator accepts as valid (so the operator neither rewrites the Secret nor
// exits on first start): CA named KEDA with DNS name KEDA, serving cert for
// dnsNames with server and client auth, both valid well beyond the rotator's
// 90-day look-ahead.
func generateKEDACerts(now time.Time, dnsNames []string) (*kedaCerts, error) {
	if len(dnsNames) == 0 {
		return nil, fmt.Errorf("keda certs: no DNS names")
	}
	notBefore := now.Add(-time.Hour)
	notAfter := now.Add(10 * 365 * 24 * time.Hour)

	// RSA and PKCS #1 as the rotator's own: it parses ca.key with
	// x509.ParsePKCS1PrivateKey before injecting the CA, and with any other
	// key it never reports the CA injected, so the operator's gRPC metrics
	// server never starts.
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("keda certs: CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: kedaCAName, Organization: []string{kedaCAOrg}},
		DNSNames:              []string{kedaCAName},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("keda certs: CA: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("keda certs: CA: %w", err)
	}

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("keda certs: serving key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: dnsNames[0]},
		DNSNames:              dnsNames,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("keda certs: serving cert: %w", err)
	}

	return &kedaCerts{
		CACert:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CAKey:   pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(caKey)}),
		TLSCert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		TLSKey:  pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
	}, nil
}

// serial returns a random positive 127-bit certificate serial number.
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil || n.Sign() == 0 {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}
