package graphsim_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/graphsim"
)

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	a := graphsim.Generate("tenant-a", 60, 42)
	require.Equal(t, a, graphsim.Generate("tenant-a", 60, 42))
	require.NotEqual(t, a, graphsim.Generate("tenant-a", 60, 43))
	require.NotEqual(t, a[0].ID, graphsim.Generate("tenant-b", 60, 42)[0].ID)
	require.Len(t, graphsim.Generate("x", 0, 1), 0)
}

func TestGenerateHasTheVarietyMSPsMeet(t *testing.T) {
	t.Parallel()
	const n = 200
	users := graphsim.Generate("tenant-a", n, 7)
	require.Len(t, users, n)
	verified, initial := graphsim.Domains("tenant-a")
	require.True(t, strings.HasPrefix(verified, "contoso-") && strings.HasSuffix(verified, ".com"), verified)
	require.True(t, strings.HasSuffix(initial, ".onmicrosoft.com"), initial)

	var disabled, guests, svc, admins, shared, noPhone, nameOnly, aliases, licensed int
	departments, offices, upns, ids := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, u := range users {
		require.NotEmpty(t, u.ID)
		require.NotEmpty(t, u.DisplayName)
		require.False(t, ids[u.ID], "ids are unique")
		ids[u.ID] = true
		upn := strings.ToLower(u.UserPrincipalName)
		require.False(t, upns[upn], "UPNs are unique: %s", upn)
		upns[upn] = true
		require.True(t, strings.HasSuffix(upn, "@"+verified) || strings.HasSuffix(upn, "@"+initial), upn)
		local := strings.SplitN(upn, "@", 2)[0]
		switch {
		case u.UserType == "Guest":
			guests++
			require.Contains(t, u.UserPrincipalName, "#EXT#")
			require.Empty(t, u.AssignedLicenses)
		case strings.HasPrefix(local, "svc-"):
			svc++
		case strings.HasPrefix(local, "admin"):
			admins++
		case len(u.AssignedLicenses) == 0:
			shared++
			require.False(t, *u.AccountEnabled, "shared mailboxes cannot sign in")
			require.Empty(t, u.GivenName)
		case !*u.AccountEnabled:
			disabled++
		}
		if u.UserType == "Member" && len(u.AssignedLicenses) > 0 && u.Department != "" {
			licensed++
			departments[u.Department] = true
			offices[u.OfficeLocation] = true
			if len(u.BusinessPhones) == 0 && u.MobilePhone == "" {
				noPhone++
			}
			if u.GivenName == "" && u.Surname == "" {
				nameOnly++
			}
		}
		if len(u.ProxyAddresses) > 1 {
			aliases++
			require.True(t, strings.HasPrefix(u.ProxyAddresses[0], "SMTP:"), "primary address first")
		}
	}
	require.Positive(t, disabled)
	require.Positive(t, guests)
	require.Positive(t, svc)
	require.Positive(t, admins)
	require.Positive(t, shared)
	require.Positive(t, noPhone)
	require.Positive(t, nameOnly)
	require.Positive(t, aliases)
	require.Greater(t, licensed, n/2)
	require.GreaterOrEqual(t, len(departments), 5)
	require.GreaterOrEqual(t, len(offices), 4)
}

func TestAddTenantRejectsBadUsers(t *testing.T) {
	t.Parallel()
	sim := graphsim.New()
	require.ErrorIs(t, sim.AddTenant(graphsim.TenantSpec{ID: ""}), graphsim.ErrInvalid)
	require.ErrorIs(t, sim.AddTenant(graphsim.TenantSpec{ID: "a/b"}), graphsim.ErrInvalid)
	dup := []graphsim.User{
		{DisplayName: "A", UserPrincipalName: "a@x.y"},
		{DisplayName: "B", UserPrincipalName: "A@X.Y"},
	}
	require.ErrorIs(t, sim.AddTenant(graphsim.TenantSpec{ID: "t", Users: dup}), graphsim.ErrInvalid)
	require.Empty(t, sim.Tenants())
	require.NoError(t, sim.AddTenant(graphsim.TenantSpec{ID: "t", Users: dup[:1]}))
	u, ok := sim.User("t", "A@x.y")
	require.True(t, ok, "UPN lookups ignore case")
	require.Equal(t, "Member", u.UserType)
	require.True(t, *u.AccountEnabled)
	_, err := sim.CreateUser("nope", graphsim.User{DisplayName: "X", UserPrincipalName: "x@y.z"})
	require.ErrorIs(t, err, graphsim.ErrUnknownTenant)
	_, err = sim.UpdateUser("t", "missing", map[string]any{"jobTitle": "x"})
	require.ErrorIs(t, err, graphsim.ErrUserNotFound)
}
