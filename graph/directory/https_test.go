package directory_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
)

func TestHTTPSOrLoopback(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]bool{
		"https://graph.microsoft.com/v1.0": true,
		"https://127.0.0.1:8443":           true,
		"http://localhost:8080":            true,
		"http://127.0.0.1:8080/webhook":    true,
		"http://[::1]:8080":                true,
		"http://psasync.example.com":       false,
		"ftp://localhost/x":                false,
	} {
		t.Run(raw, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(raw)
			require.NoError(t, err)
			require.Equal(t, want, directory.HTTPSOrLoopback(u))
		})
	}
}
