package simkit

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Server is a simulator served on a real address, for tests (Serve) and for
// standalone runs (Start, StartTLS) alike.
type Server struct {
	// URL is the server root, scheme://host:port.
	URL string

	ts *httptest.Server
}

// Start serves h over plain HTTP on addr (host:port; port 0 picks a free
// one) until Close.
func Start(addr string, h http.Handler) (*Server, error) {
	return start(addr, h, false)
}

// StartTLS serves h over HTTPS with a self-signed certificate on addr until
// Close; Client and CertificatePEM give a client what it needs to trust it.
func StartTLS(addr string, h http.Handler) (*Server, error) {
	return start(addr, h, true)
}

// Serve starts sim on a free local port for a test, tells it its URL and
// closes the server when tb ends; it returns sim, so that a simulator's
// NewServer is one line.
func Serve[S interface {
	http.Handler
	SetURL(url string)
}](tb testing.TB, sim S) S {
	tb.Helper()
	s, err := Start("127.0.0.1:0", sim)
	if err != nil {
		tb.Fatalf("simkit: %v", err)
	}
	tb.Cleanup(s.Close)
	sim.SetURL(s.URL)
	return sim
}

func start(addr string, h http.Handler, withTLS bool) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("simkit: listen %s: %w", addr, err)
	}
	ts := httptest.NewUnstartedServer(h)
	_ = ts.Listener.Close()
	ts.Listener = ln
	ts.Config.ReadHeaderTimeout = 10 * time.Second
	if withTLS {
		// Clients that do not trust the certificate are expected in tests.
		ts.Config.ErrorLog = log.New(io.Discard, "", 0)
		ts.StartTLS()
	} else {
		ts.Start()
	}
	return &Server{URL: ts.URL, ts: ts}, nil
}

// Close takes the server off the network at once: it drops open
// connections (requests in flight see their context end) and waits for
// their handlers to return. Closing twice is harmless.
func (s *Server) Close() {
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// Certificate is the TLS server certificate (nil for plain HTTP).
func (s *Server) Certificate() *x509.Certificate { return s.ts.Certificate() }

// CertificatePEM is the TLS server certificate in PEM form, for processes
// that must trust a standalone simulator (nil for plain HTTP).
func (s *Server) CertificatePEM() []byte {
	cert := s.ts.Certificate()
	if cert == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// Client returns an HTTP client that trusts the server's certificate.
func (s *Server) Client() *http.Client {
	tr := &http.Transport{Proxy: nil}
	if cert := s.ts.Certificate(); cert != nil {
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}
