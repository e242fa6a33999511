package psa_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

func TestFindArgs(t *testing.T) {
	t.Parallel()
	parse := func(op, what, id string) (int, error) {
		n, err := strconv.Atoi(id)
		if err != nil {
			return 0, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: what + " is not a number"}
		}
		return n, nil
	}
	id, v, err := psa.FindArgs("op", "7", "email", "  bo@contoso.example ", parse)
	require.NoError(t, err)
	require.Equal(t, 7, id)
	require.Equal(t, "bo@contoso.example", v)
	_, _, err = psa.FindArgs("op", "7", "object id", " \t", parse)
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.ErrorContains(t, err, "object id is empty")
	_, _, err = psa.FindArgs("op", "x", "email", "bo@contoso.example", parse)
	require.ErrorContains(t, err, "company id is not a number", "the company id is read first")
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
