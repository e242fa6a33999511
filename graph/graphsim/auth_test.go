package graphsim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/graphsim"
)

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	good := func() url.Values {
		return url.Values{
			"grant_type":    {"client_credentials"},
			"client_id":     {graphsim.DefaultClientID},
			"client_secret": {graphsim.DefaultClientSecret},
			"scope":         {"https://graph.microsoft.com/.default"},
		}
	}
	tests := []struct {
		name     string
		tenant   string
		change   func(url.Values)
		status   int
		errCode  string
		aadstsIn string
	}{
		{name: "valid", tenant: "t1", change: func(url.Values) {}, status: http.StatusOK},
		{name: "wrong secret", tenant: "t1", change: func(v url.Values) { v.Set("client_secret", "nope") }, status: http.StatusUnauthorized, errCode: "invalid_client", aadstsIn: "AADSTS7000215"},
		{name: "unknown app", tenant: "t1", change: func(v url.Values) { v.Set("client_id", "other") }, status: http.StatusBadRequest, errCode: "unauthorized_client", aadstsIn: "AADSTS700016"},
		{name: "unknown tenant", tenant: "nope", change: func(url.Values) {}, status: http.StatusBadRequest, errCode: "invalid_tenant", aadstsIn: "AADSTS90002"},
		{name: "scope without .default", tenant: "t1", change: func(v url.Values) { v.Set("scope", "User.Read.All") }, status: http.StatusBadRequest, errCode: "invalid_scope"},
		{name: "wrong grant", tenant: "t1", change: func(v url.Values) { v.Set("grant_type", "password") }, status: http.StatusBadRequest, errCode: "unsupported_grant_type"},
		{name: "assertion without certificate", tenant: "t1", change: func(v url.Values) {
			v.Del("client_secret")
			v.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			v.Set("client_assertion", "a.b.c")
		}, status: http.StatusUnauthorized, errCode: "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, graphsim.WithGeneratedTenant("t1", 3, 1))
			form := good()
			tc.change(form)
			status, m := b.tokenResponse(t, tc.tenant, form)
			require.Equal(t, tc.status, status, m)
			if tc.status == http.StatusOK {
				require.Equal(t, "Bearer", m["token_type"])
				require.NotEmpty(t, m["access_token"])
				require.EqualValues(t, 3599, m["expires_in"])
				return
			}
			require.Equal(t, tc.errCode, m["error"])
			require.Contains(t, m["error_description"], tc.aadstsIn)
			require.NotEmpty(t, m["error_codes"])
		})
	}
}

func TestOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 1, 1))
	status, m := b.getJSON(t, "/t1/v2.0/.well-known/openid-configuration", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, b.sim.URL+"/t1/oauth2/v2.0/token", m["token_endpoint"])
	require.Equal(t, b.sim.URL+"/t1/oauth2/v2.0/authorize", m["authorization_endpoint"])
	require.Equal(t, b.sim.URL+"/t1/v2.0", m["issuer"])

	status, m = b.getJSON(t, "/other/v2.0/.well-known/openid-configuration", "")
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "invalid_tenant", m["error"])
}

func TestGraphRequiresTokenOfTheTenant(t *testing.T) {
	t.Parallel()
	b := setup(t,
		graphsim.WithGeneratedTenant("a", 5, 1),
		graphsim.WithGeneratedTenant("b", 7, 2))

	status, raw, _ := b.do(t, http.MethodGet, "/v1.0/users", "", nil)
	require.Equal(t, http.StatusUnauthorized, status)
	code, msg := graphError(t, raw)
	require.Equal(t, "InvalidAuthenticationToken", code)
	require.Equal(t, "Access token is empty.", msg)

	status, raw, _ = b.do(t, http.MethodGet, "/v1.0/users", "forged", nil)
	require.Equal(t, http.StatusUnauthorized, status)
	code, _ = graphError(t, raw)
	require.Equal(t, "InvalidAuthenticationToken", code)

	// The token decides the tenant.
	_, m := b.getJSON(t, "/v1.0/users", b.token(t, "a"))
	require.Len(t, values(t, m), 5)
	_, m = b.getJSON(t, "/v1.0/users", b.token(t, "b"))
	require.Len(t, values(t, m), 7)
}

func TestRevokedConsentGives403(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 2, 1))
	tok := b.token(t, "t1")
	require.NoError(t, b.sim.RevokeConsent("t1"))
	status, raw, _ := b.do(t, http.MethodGet, "/v1.0/users", tok, nil)
	require.Equal(t, http.StatusForbidden, status)
	code, _ := graphError(t, raw)
	require.Equal(t, "Authorization_RequestDenied", code)
	require.NoError(t, b.sim.GrantConsent("t1"))
	status, _, _ = b.do(t, http.MethodGet, "/v1.0/users", tok, nil)
	require.Equal(t, http.StatusOK, status)
	require.ErrorIs(t, b.sim.RevokeConsent("missing"), graphsim.ErrUnknownTenant)
}

func TestRecordingRedactsSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 2, 1))
	tok := b.token(t, "t1")
	b.do(t, http.MethodGet, "/v1.0/users?$select=id", tok, nil)
	recs := b.sim.Requests()
	require.Len(t, recs, 2)
	require.Equal(t, "/t1/oauth2/v2.0/token", recs[0].Path)
	require.NotContains(t, string(recs[0].Body), graphsim.DefaultClientSecret)
	require.Contains(t, string(recs[0].Body), "client_secret=%5Bredacted%5D")
	require.Equal(t, http.MethodGet, recs[1].Method)
	require.Equal(t, "$select=id", recs[1].RawQuery)
	require.Equal(t, http.StatusOK, recs[1].Status)
	require.NotContains(t, recs[1].Header.Get("Authorization"), tok)
	require.True(t, strings.HasPrefix(recs[1].ResponseHeader.Get("Content-Type"), "application/json"))
	require.Contains(t, string(recs[1].ResponseBody), `"value"`)
}
