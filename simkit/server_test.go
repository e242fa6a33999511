package simkit_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/simkit"
)

func TestStartTLSIsTrustedThroughItsCertificate(t *testing.T) {
	t.Parallel()
	srv, err := simkit.StartTLS("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	require.NoError(t, err)
	t.Cleanup(srv.Close)

	_, err = http.Get(srv.URL)
	require.Error(t, err, "the certificate is self-signed")
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	block, _ := pem.Decode(srv.CertificatePEM())
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	require.Equal(t, srv.Certificate().Raw, cert.Raw)
}

func TestCloseCutsRequestsInFlight(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	srv, err := simkit.Start("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		simkit.Sleep(r.Context(), time.Hour)
	}))
	require.NoError(t, err)
	require.Nil(t, srv.CertificatePEM(), "plain HTTP has no certificate")
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		errc <- err
	}()
	<-started
	start := time.Now()
	srv.Close()
	require.Less(t, time.Since(start), 5*time.Second, "Close does not wait for a slow handler")
	require.Error(t, <-errc, "the client sees the connection go")
	srv.Close() // twice is harmless
	_, err = http.Get(srv.URL)
	require.Error(t, err, "off the network")
}
