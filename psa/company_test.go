package psa_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

func TestWebsiteDomain(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://www.Contoso.com/about":  "contoso.com",
		"contoso.com":                    "contoso.com",
		"  http://contoso.co.uk:8080/ ":  "contoso.co.uk",
		"www.fabrikam.example.":          "fabrikam.example",
		"https://user@northwind.example": "northwind.example",
		"shop.contoso.com?x=1":           "shop.contoso.com",
		"":                               "",
		"n/a":                            "",
		"localhost":                      "",
		"not a site.com":                 "",
	} {
		require.Equal(t, want, psa.WebsiteDomain(in), in)
	}
}

func TestEmailDomain(t *testing.T) {
	t.Parallel()
	require.Equal(t, "contoso.com", psa.EmailDomain("Ann@Contoso.COM"))
	require.Equal(t, "b.example", psa.EmailDomain(`"a@x"@b.example`))
	require.Empty(t, psa.EmailDomain("ann"))
	require.Empty(t, psa.EmailDomain("ann@"))
}

func TestDomainSets(t *testing.T) {
	t.Parallel()
	d := psa.NewDomainSets([]string{"1", "2", "3"})
	d.Add("1", "a@Contoso.com")
	d.Add("1", "b@contoso.com")
	d.Add("1", "c@eu.contoso.com")
	d.Add("2", "no-address")
	d.Add("9", "x@other.example")
	require.Equal(t, map[string][]string{"1": {"contoso.com", "eu.contoso.com"}}, d.Map())
}

func TestValidTenantID(t *testing.T) {
	t.Parallel()
	require.True(t, psa.ValidTenantID("5f1c1d2e-0000-4000-8000-00000000d3e0"))
	require.True(t, psa.ValidTenantID("5F1C1D2E-0000-4000-8000-00000000D3E0"))
	for _, bad := range []string{"", "contoso.onmicrosoft.com", "5f1c1d2e00004000800000000000d3e0",
		"{5f1c1d2e-0000-4000-8000-00000000d3e0}", "5f1c1d2e-0000-4000-8000-00000000d3eg", "5f1c1d2e-0000-4000-8000_00000000d3e0"} {
		require.False(t, psa.ValidTenantID(bad), bad)
	}
}

func TestTenantArgs(t *testing.T) {
	t.Parallel()
	parse := func(op, what, id string) (string, error) {
		if id == "" {
			return "", &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: what + " is empty"}
		}
		return id, nil
	}
	id, tenant, err := psa.TenantArgs("op", "7", " 5f1c1d2e-0000-4000-8000-00000000d3e0 ", parse)
	require.NoError(t, err)
	require.Equal(t, "7", id)
	require.Equal(t, "5f1c1d2e-0000-4000-8000-00000000d3e0", tenant)
	_, _, err = psa.TenantArgs("op", "7", "contoso", parse)
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.ErrorContains(t, err, `tenant id "contoso" is not a GUID`)
	_, _, err = psa.TenantArgs("op", "", "contoso", parse)
	require.ErrorContains(t, err, "company id is empty", "the company id is read first")
}
