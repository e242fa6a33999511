package app_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/simkit/simenv"
)

// TestConsoleOnboardsTenants: the console discovers a simulated MSP's
// customers, lists those needing review with their candidates and the
// consent link, accepts one (it starts with a dry run and joins the
// overview), rejects another, and refuses a second accept by name.
func TestConsoleOnboardsTenants(t *testing.T) {
	t.Parallel()
	clock := &weekClock{now: time.Now().UTC()}
	env, _, nb := startMSP(t, 10, clock)
	b := newUIBrowser(t, nb.n.BaseURL())
	b.signIn(testAPIToken)

	resp, body := b.post("/ui/onboarding/discover", url.Values{"csrf": {b.csrf("/ui/onboarding")}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "Discovered 10 tenants")

	_, body = b.get("/ui/onboarding?status=needs_review")
	require.Equal(t, env.Mix.NeedsReview, strings.Count(body, `aria-label="Tenant `), "the needs-review filter")
	two := customerOf(t, env, simenv.KindTwoCompanies, 0)
	require.Contains(t, body, two.TenantID)
	for _, id := range two.CompanyIDs {
		require.Contains(t, body, "("+strconv.Itoa(id)+")", "each candidate company")
	}
	_, body = b.get("/ui/onboarding")
	require.Contains(t, body, "/v2.0/adminconsent?client_id=", "the consent link of a tenant without consent")

	decide := func(form url.Values) (*http.Response, string) {
		form.Set("csrf", b.csrf("/ui/onboarding"))
		return b.post("/ui/onboarding/decide", form)
	}
	web := customerOf(t, env, simenv.KindWebsite, 0)
	resp, body = decide(url.Values{"tenant": {web.TenantID}, "action": {"accept"}, "company": {strconv.Itoa(web.CompanyIDs[0])}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "is accepted and mapped to company")
	require.Contains(t, body, "Its first dry run is")
	_, body = b.get("/ui/")
	require.Contains(t, body, "/ui/tenants/"+web.TenantID, "the accepted tenant is on the overview")

	resp, body = decide(url.Values{"tenant": {web.TenantID}, "action": {"accept"}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, body, "Nothing was changed")

	resp, body = decide(url.Values{"tenant": {two.TenantID}, "action": {"reject"}, "reason": {"not a customer any more"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "is rejected")
	_, body = b.get("/ui/onboarding?status=rejected")
	require.Contains(t, body, two.TenantID)
}
