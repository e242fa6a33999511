package mapping

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
)

func TestTemplateFuncs(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a", tmplFirst([]string{"a", "b"}))
	require.Empty(t, tmplFirst(nil))
	require.Equal(t, "b", tmplLast([]string{"a", "b"}))
	require.Empty(t, tmplLast([]string{}))
	require.Equal(t, "a, b", tmplJoin(", ", []string{"a", "b"}))
	require.Empty(t, tmplJoin(", ", nil))
	require.Equal(t, []string{"jane", "doe@contoso", "com"}, tmplSplit(".", "jane.doe@contoso.com"))
	require.Equal(t, "a-b-c", tmplReplace(" ", "-", "a b c"))

	tests := []struct {
		v     any
		empty bool
	}{
		{nil, true},
		{"", true},
		{"  ", true},
		{"x", false},
		{[]string(nil), true},
		{[]string{}, true},
		{[]string{""}, false},
		{(*bool)(nil), true},
		{directory.Bool(false), false},
		{false, true},
		{true, false},
		{42, false},
	}
	for _, tc := range tests {
		require.Equal(t, tc.empty, isEmpty(tc.v), "%#v", tc.v)
		want := tc.v
		if tc.empty {
			want = "def"
		}
		require.Equal(t, want, tmplDefault("def", tc.v), "%#v", tc.v)
	}

	names := make([]string, 0)
	for name := range templateFuncs() {
		names = append(names, name)
	}
	require.ElementsMatch(t, []string{"first", "last", "lower", "upper", "trim", "default", "join", "split", "replace"}, names)
}
