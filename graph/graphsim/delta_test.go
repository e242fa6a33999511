package graphsim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/graphsim"
)

// deltaRound follows a delta round to its deltaLink and returns the items
// and the deltaLink's path.
func (b *testBundle) deltaRound(t *testing.T, tok, path string) ([]map[string]any, string, int) {
	t.Helper()
	var items []map[string]any
	pages := 0
	for {
		status, m := b.getJSON(t, path, tok)
		require.Equal(t, http.StatusOK, status, m)
		pages++
		items = append(items, values(t, m)...)
		if link, ok := m["@odata.deltaLink"].(string); ok {
			require.NotContains(t, m, "@odata.nextLink", "a page never has both links")
			return items, pathOf(t, link), pages
		}
		next, ok := m["@odata.nextLink"].(string)
		require.True(t, ok, "a page has nextLink or deltaLink: %v", m)
		path = pathOf(t, next)
	}
}

func byID(items []map[string]any) map[string]map[string]any {
	out := make(map[string]map[string]any, len(items))
	for _, it := range items {
		out[it["id"].(string)] = it
	}
	return out
}

func TestDeltaTracksChanges(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 120, 5), graphsim.WithPageSize(50), graphsim.WithClock(clock.Now))
	tok := b.token(t, "t1")
	users := b.sim.Users("t1")

	// The SDK's spelling of the function works too.
	items, link, pages := b.deltaRound(t, tok, "/v1.0/users/delta()?$select=id,displayName,jobTitle,accountEnabled")
	require.Len(t, items, 120)
	require.Equal(t, 3, pages)
	for _, it := range items {
		require.NotContains(t, it, "@removed")
		require.Len(t, it, 4)
	}

	// Nothing changed: an empty round and a fresh link.
	items, link, _ = b.deltaRound(t, tok, link)
	require.Empty(t, items)

	// One change in a tracked property, one in an untracked one.
	_, err := b.sim.UpdateUser("t1", users[3].ID, map[string]any{"jobTitle": "Chief Tester"})
	require.NoError(t, err)
	_, err = b.sim.UpdateUser("t1", users[4].ID, map[string]any{"city": "Oslo"})
	require.NoError(t, err)
	items, link, _ = b.deltaRound(t, tok, link)
	require.Len(t, items, 1)
	require.Equal(t, users[3].ID, items[0]["id"])
	require.Equal(t, "Chief Tester", items[0]["jobTitle"])

	// Disable, soft delete, purge and create.
	_, err = b.sim.UpdateUser("t1", users[5].UserPrincipalName, map[string]any{"accountEnabled": false})
	require.NoError(t, err)
	require.NoError(t, b.sim.DeleteUser("t1", users[6].ID))
	require.NoError(t, b.sim.PurgeUser("t1", users[7].ID))
	created, err := b.sim.CreateUser("t1", graphsim.User{DisplayName: "New Hire", UserPrincipalName: "new.hire@example.com"})
	require.NoError(t, err)
	items, link, _ = b.deltaRound(t, tok, link)
	got := byID(items)
	require.Len(t, got, 4)
	require.Equal(t, false, got[users[5].ID]["accountEnabled"])
	require.Equal(t, map[string]any{"reason": "changed"}, got[users[6].ID]["@removed"])
	require.Equal(t, map[string]any{"reason": "deleted"}, got[users[7].ID]["@removed"])
	require.Equal(t, "New Hire", got[created.ID]["displayName"])

	// Created and deleted between two rounds: never seen.
	gone, err := b.sim.CreateUser("t1", graphsim.User{DisplayName: "Temp", UserPrincipalName: "temp@example.com"})
	require.NoError(t, err)
	require.NoError(t, b.sim.DeleteUser("t1", gone.ID))
	items, link, _ = b.deltaRound(t, tok, link)
	require.Empty(t, items)

	// A full round no longer lists removed users.
	items, _, _ = b.deltaRound(t, tok, "/v1.0/users/delta?$select=id")
	require.Len(t, items, 120-2+1)

	// Links older than the lifetime are refused like Graph refuses them.
	clock.Advance(graphsim.DefaultDeltaTokenLifetime + time.Minute)
	status, raw, _ := b.do(t, http.MethodGet, link, tok, nil)
	require.Equal(t, http.StatusBadRequest, status)
	code, _ := graphError(t, raw)
	require.Equal(t, "syncStateNotFound", code)
}

func TestDeltaTokensExpireOnDemand(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 30, 5), graphsim.WithGeneratedTenant("t2", 3, 5), graphsim.WithPageSize(10))
	tok := b.token(t, "t1")
	status, m := b.getJSON(t, "/v1.0/users/delta", tok)
	require.Equal(t, http.StatusOK, status)
	next := pathOf(t, m["@odata.nextLink"].(string))
	_, link, _ := b.deltaRound(t, tok, "/v1.0/users/delta")

	require.NoError(t, b.sim.ExpireDeltaTokens("t1"))
	for _, p := range []string{link, next} {
		status, raw, _ := b.do(t, http.MethodGet, p, tok, nil)
		require.Equal(t, http.StatusGone, status, p)
		code, _ := graphError(t, raw)
		require.Equal(t, "syncStateNotFound", code)
	}

	// A token of another tenant is refused.
	status, raw, _ := b.do(t, http.MethodGet, link, b.token(t, "t2"), nil)
	require.Equal(t, http.StatusBadRequest, status)
	graphError(t, raw)
	status, _, _ = b.do(t, http.MethodGet, "/v1.0/users/delta?$deltatoken=garbage", tok, nil)
	require.Equal(t, http.StatusBadRequest, status)
}

func TestDeltaLatestSkipsTheEnumeration(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 30, 5))
	tok := b.token(t, "t1")
	items, link, pages := b.deltaRound(t, tok, "/v1.0/users/delta?$deltatoken=latest&$select=id,department")
	require.Empty(t, items)
	require.Equal(t, 1, pages)
	u := b.sim.Users("t1")[0]
	_, err := b.sim.UpdateUser("t1", u.ID, map[string]any{"department": "Legal"})
	require.NoError(t, err)
	items, _, _ = b.deltaRound(t, tok, link)
	require.Len(t, items, 1)
	require.Equal(t, map[string]any{"id": u.ID, "department": "Legal"}, items[0])
}
