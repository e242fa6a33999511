package psa_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

func TestMatchArg(t *testing.T) {
	t.Parallel()
	v, err := psa.MatchArg("op", "email", "  bo@contoso.example ")
	require.NoError(t, err)
	require.Equal(t, "bo@contoso.example", v)
	_, err = psa.MatchArg("op", "object id", " \t")
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.ErrorContains(t, err, "object id is empty")
}

func TestFieldSet(t *testing.T) {
	t.Parallel()
	set, err := psa.FieldSet("op", []psa.Field{psa.FieldEmail, psa.FieldInactive, psa.FieldExternalID})
	require.NoError(t, err)
	require.Equal(t, map[psa.Field]bool{psa.FieldEmail: true, psa.FieldInactive: true, psa.FieldExternalID: true}, set)
	_, err = psa.FieldSet("op", []psa.Field{psa.FieldEmail, "shoe_size"})
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.ErrorContains(t, err, `unknown contact field "shoe_size"`)
}
