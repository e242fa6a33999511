package webhook

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUISeesClientAndScheme: under /ui/ the mounted handler sees the
// proxy's X-Forwarded-For and X-Forwarded-Proto only from a trusted proxy.
func TestUISeesClientAndScheme(t *testing.T) {
	t.Parallel()
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme := "http"
		if RequestIsHTTPS(r) {
			scheme = "https"
		}
		_, _ = w.Write([]byte(ClientIP(r) + " " + scheme))
	})
	fwd := http.Header{"X-Forwarded-For": {"203.0.113.7"}, "X-Forwarded-Proto": {"https"}}
	for _, tt := range []struct {
		name    string
		trusted []string
		want    string
	}{
		{"untrusted peer", nil, "127.0.0.1 http"},
		{"trusted proxy", []string{"127.0.0.1/32"}, "203.0.113.7 https"},
		{"trusted proxy by address", []string{"127.0.0.1"}, "203.0.113.7 https"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *Config) { c.UI, c.TrustedProxies = echo, tt.trusted })
			resp, body := b.do(t, http.MethodGet, "/ui/", "", nil, fwd)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, tt.want, string(body))
		})
	}
}
