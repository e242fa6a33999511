package graphsim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/graphsim"
)

// batchAnswer is one response of a $batch answer, as Microsoft documents it.
type batchAnswer struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

func postBatch(t *testing.T, b *testBundle, token string, reqs []map[string]any) (int, []byte) {
	t.Helper()
	status, raw, _ := b.do(t, http.MethodPost, "/v1.0/$batch", token, map[string]any{"requests": reqs})
	return status, raw
}

func TestBatchAnswersEachRequestOnItsOwn(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("contoso", 3, 5))
	tok := b.token(t, "contoso")
	users := b.sim.Users("contoso")
	require.Len(t, users, 3)
	b.sim.ResetStats()
	// The third read is throttled on its own; the batch itself succeeds.
	b.sim.InjectFault(graphsim.Fault{PathContains: "/users/" + users[2].ID, Status: http.StatusTooManyRequests, RetryAfter: "3"})
	status, raw := postBatch(t, b, tok, []map[string]any{
		{"id": "a", "method": "GET", "url": "/users/" + users[0].ID + "?$select=id,displayName"},
		{"id": "b", "method": "GET", "url": "users/no-such-user"},
		{"id": "c", "method": "GET", "url": "/users/" + users[2].ID},
		{"id": "d", "method": "GET", "url": "/users?$top=2", "headers": map[string]string{"ConsistencyLevel": "eventual"}},
	})
	require.Equal(t, http.StatusOK, status, string(raw))
	var out struct {
		Responses []batchAnswer `json:"responses"`
	}
	require.NoError(t, json.Unmarshal(raw, &out))
	byID := map[string]batchAnswer{}
	for _, r := range out.Responses {
		byID[r.ID] = r
	}
	require.Len(t, byID, 4)

	require.Equal(t, http.StatusOK, byID["a"].Status)
	var u map[string]any
	require.NoError(t, json.Unmarshal(byID["a"].Body, &u))
	require.Equal(t, users[0].ID, u["id"])
	require.NotContains(t, u, "mail", "$select applies inside a batch")

	require.Equal(t, http.StatusNotFound, byID["b"].Status)
	code, _ := graphError(t, byID["b"].Body)
	require.Equal(t, "Request_ResourceNotFound", code)

	require.Equal(t, http.StatusTooManyRequests, byID["c"].Status)
	require.Equal(t, "3", byID["c"].Headers["Retry-After"])
	code, _ = graphError(t, byID["c"].Body)
	require.Equal(t, "TooManyRequests", code)

	require.Equal(t, http.StatusOK, byID["d"].Status)
	var page map[string]any
	require.NoError(t, json.Unmarshal(byID["d"].Body, &page))
	require.Len(t, page["value"], 2)
	require.Contains(t, page["@odata.nextLink"], "https://", "links inside a batch are absolute, on the Sim's host")

	st := b.sim.Stats()
	require.Equal(t, 1, st.Requests, "one round trip")
	require.Equal(t, 1, st.Batches)
	require.Equal(t, 4, st.BatchedRequests)
	require.Equal(t, 1, st.BatchedThrottled)
	require.Equal(t, 4, st.Reads, "each request inside is a read")
	require.Equal(t, 0, st.Writes)
}

func TestBatchRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("contoso", 1, 5))
	tok := b.token(t, "contoso")
	get := func(id string) map[string]any { return map[string]any{"id": id, "method": "GET", "url": "/users"} }
	var tooMany []map[string]any
	for i := range graphsim.MaxBatchRequests + 1 {
		tooMany = append(tooMany, get(fmt.Sprint(i)))
	}
	tests := []struct {
		name string
		reqs []map[string]any
		want string
	}{
		{"more than 20", tooMany, "exceeds the limit of 20"},
		{"repeated id", []map[string]any{get("1"), get("1")}, `"1" is repeated`},
		{"no id", []map[string]any{get("")}, "has no id"},
		{"no url", []map[string]any{{"id": "1", "method": "GET"}}, "needs a method and a url"},
		{"empty", []map[string]any{}, "no requests"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, raw := postBatch(t, b, tok, tc.reqs)
			require.Equal(t, http.StatusBadRequest, status)
			_, msg := graphError(t, raw)
			require.Contains(t, msg, tc.want)
		})
	}
	t.Run("no token", func(t *testing.T) {
		t.Parallel()
		status, _ := postBatch(t, b, "", []map[string]any{get("1")})
		require.Equal(t, http.StatusUnauthorized, status)
	})
}
