package worker_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/worker"
)

func TestExclusiveCompanies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		owners map[string][]string
		tenant string
		want   []string
	}{
		{"one tenant owns its companies", map[string][]string{"a": {"250", "251"}}, "a", []string{"250", "251"}},
		{"a shared company is nobody's", map[string][]string{"a": {"250", "251"}, "b": {"251", "252"}}, "a", []string{"250"}},
		{"the other tenant's view", map[string][]string{"a": {"250", "251"}, "b": {"251", "252"}}, "b", []string{"252"}},
		{"a company listed twice by one tenant is still its own", map[string][]string{"a": {"250", "250"}}, "a", []string{"250"}},
		{"empty ids are ignored", map[string][]string{"a": {"", "250"}, "b": {""}}, "a", []string{"250"}},
		{"an unknown tenant owns nothing", map[string][]string{"a": {"250"}}, "z", nil},
		{"no companies", map[string][]string{"a": nil}, "a", nil},
		{"sorted", map[string][]string{"a": {"9", "10", "1"}}, "a", []string{"1", "10", "9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, worker.ExclusiveCompanies(tc.owners, tc.tenant))
		})
	}
}
