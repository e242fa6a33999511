package webhook

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIsJSONContentType(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"application/json":                   true,
		"application/json; charset=utf-8":    true,
		"application/json; charset=UTF-8":    true,
		"Application/JSON":                   true,
		"application/json;charset=\"utf-8\"": true,
		"application/json; charset=utf8":     false,
		"application/json; charset=latin1":   false,
		"application/jsonx":                  false,
		"text/json":                          false,
		"text/plain":                         false,
		"":                                   false,
		"application/json; ===":              false,
		"multipart/form-data; boundary=x":    false,
	}
	for ct, want := range tests {
		t.Run(ct, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, want, isJSONContentType(ct))
		})
	}
}
