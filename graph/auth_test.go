package graph_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/graph/graphsim"
)

// newCertificate makes a self-signed certificate and writes it with its
// key as one PEM file, the way an app registration's certificate is kept.
func newCertificate(t *testing.T) (*x509.Certificate, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "psasync test app"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})...)
	path := filepath.Join(t.TempDir(), "app.pem")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return cert, path
}

func TestCertificateCredential(t *testing.T) {
	t.Parallel()
	registered, certPath := newCertificate(t)
	_, otherPath := newCertificate(t)
	sim := graphsim.NewServer(t, graphsim.WithTenant(graphsim.TenantSpec{
		ID: "cert-tenant", Certificate: registered,
		Users: graphsim.Generate("cert-tenant", 4, 3),
	}))
	authority, base, clientID, _ := sim.GraphConfig("cert-tenant")
	cfg := graph.Config{TenantID: "cert-tenant", ClientID: clientID, CertificatePath: certPath, AuthorityHost: authority, BaseURL: base}

	c, err := graph.New(context.Background(), cfg, graph.WithHTTPClient(sim.HTTPClient()))
	require.NoError(t, err)
	users, err := collect(t, c)
	require.NoError(t, err)
	require.Len(t, users, 4)

	cfg.CertificatePath = otherPath
	c, err = graph.New(context.Background(), cfg, graph.WithHTTPClient(sim.HTTPClient()))
	require.NoError(t, err)
	_, err = collect(t, c)
	require.ErrorIs(t, err, directory.ErrPermissionDenied, "a certificate the app does not have is refused")

	cfg.CertificatePath = filepath.Join(t.TempDir(), "missing.pem")
	_, err = graph.New(context.Background(), cfg)
	require.ErrorContains(t, err, "certificate_path")
}

func TestCAFileTrustsAStandaloneSimulator(t *testing.T) {
	t.Parallel()
	sim := graphsim.NewServer(t, graphsim.WithGeneratedTenant("t1", 2, 1))
	caPath := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caPath, sim.CertificatePEM(), 0o600))
	cfg := simConfig(sim, "t1")
	cfg.CAFile = caPath
	c, err := graph.New(context.Background(), cfg)
	require.NoError(t, err)
	users, err := collect(t, c)
	require.NoError(t, err)
	require.Len(t, users, 2)

	// Without it the simulator's certificate is not trusted.
	cfg.CAFile = ""
	c, err = graph.New(context.Background(), cfg)
	require.NoError(t, err)
	_, err = collect(t, c)
	require.Error(t, err)

	bad := filepath.Join(t.TempDir(), "bad.pem")
	require.NoError(t, os.WriteFile(bad, []byte("not pem"), 0o600))
	cfg.CAFile = bad
	_, err = graph.New(context.Background(), cfg)
	require.ErrorContains(t, err, "ca_file")
}
