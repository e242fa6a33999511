package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/worker"
)

// testReadToken is the read-only token of console test nodes.
const testReadToken = "read-only-token-0123456789abcdef"

// uiBrowser is a cookie-keeping HTTP client that does not follow
// redirects, so a test sees each answer of the console as a browser gets it.
type uiBrowser struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newUIBrowser(t testing.TB, base string) *uiBrowser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &uiBrowser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *uiBrowser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp, string(body)
}

func (b *uiBrowser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

func (b *uiBrowser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the forms on the page at path.
func (b *uiBrowser) csrf(path string) string {
	b.t.Helper()
	resp, body := b.get(path)
	require.Equal(b.t, http.StatusOK, resp.StatusCode, "GET %s", path)
	m := csrfField.FindStringSubmatch(body)
	require.NotNil(b.t, m, "no CSRF token on %s", path)
	return m[1]
}

// signIn posts the sign-in form with token and returns the answer.
func (b *uiBrowser) signIn(token string) (*http.Response, string) {
	b.t.Helper()
	return b.post("/ui/signin", url.Values{"csrf": {b.csrf("/ui/signin")}, "token": {token}, "next": {"/ui/"}})
}

func (b *uiBrowser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.base + "/ui/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// startConsoleNode is a serving node with both tokens, subscribed (so a
// clientState exists and a first run ran).
func startConsoleNode(t *testing.T, tune func(*config.Config)) *nodeBundle {
	t.Helper()
	return startNode(t, nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise, seedPSA: true}, subscribe: true,
		tune: func(c *config.Config) {
			c.Server.ReadToken = testReadToken
			if tune != nil {
				tune(c)
			}
		}})
}

// startRunFromConsole presses "sync now" (or "dry run now") on the tenant
// page and waits for the run to finish; it returns the run's page path.
func startRunFromConsole(t *testing.T, nb *nodeBundle, b *uiBrowser, mode string, dry bool) string {
	t.Helper()
	page := "/ui/tenants/" + nb.tenant
	resp, body := b.post(page+"/sync", url.Values{"csrf": {b.csrf(page)}, "sync_mode": {mode}, "dry_run": {map[bool]string{true: "true", false: "false"}[dry]}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	loc := resp.Header.Get("Location")
	rec := waitConsoleRun(t, nb, loc)
	require.Equal(t, dry, rec.Inputs.DryRun)
	if mode != "" {
		require.Equal(t, mode, rec.Inputs.SyncMode)
	}
	return loc
}

// waitConsoleRun waits until the run whose page is loc has its report.
func waitConsoleRun(t *testing.T, nb *nodeBundle, loc string) worker.RunRecord {
	t.Helper()
	require.True(t, strings.HasPrefix(loc, "/ui/runs/"), loc)
	path, _, _ := strings.Cut(loc, "?")
	id, err := url.PathUnescape(strings.TrimPrefix(path, "/ui/runs/"))
	require.NoError(t, err)
	var rec worker.RunRecord
	require.Eventually(t, func() bool {
		var ok bool
		var err error
		rec, ok, err = nb.n.Engine().Store().Run(context.Background(), id)
		return err == nil && ok && rec.Report != nil
	}, 30*time.Second, 50*time.Millisecond, "the run started from the console never finished")
	return rec
}

func TestConsoleSignIn(t *testing.T) {
	t.Parallel()
	nb := startConsoleNode(t, nil)
	base := nb.n.BaseURL()

	t.Run("pages need a session", func(t *testing.T) {
		b := newUIBrowser(t, base)
		resp, _ := b.get("/ui/tenants/" + nb.tenant)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/ui/signin?next=%2Fui%2Ftenants%2F"+nb.tenant, resp.Header.Get("Location"))
		resp, _ = b.get("/monitoring/")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no session, no queues UI")
	})
	t.Run("wrong token", func(t *testing.T) {
		b := newUIBrowser(t, base)
		resp, body := b.signIn("not-the-token-0123456789")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, body, "That token is not valid.")
		require.Nil(t, b.cookie("psasync_session"), "no session cookie")
	})
	t.Run("sign-in form without its CSRF token", func(t *testing.T) {
		b := newUIBrowser(t, base)
		b.csrf("/ui/signin")
		resp, _ := b.post("/ui/signin", url.Values{"token": {testAPIToken}})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		resp, _ = b.post("/ui/signin", url.Values{"token": {testAPIToken}, "csrf": {"forged"}})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Nil(t, b.cookie("psasync_session"))
	})
	t.Run("admin token, cookie flags, sign-out", func(t *testing.T) {
		b := newUIBrowser(t, base)
		resp, _ := b.signIn(testAPIToken)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/ui/", resp.Header.Get("Location"))
		var set *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "psasync_session" {
				set = c
			}
		}
		require.NotNil(t, set)
		require.True(t, set.HttpOnly, "HttpOnly")
		require.Equal(t, http.SameSiteStrictMode, set.SameSite)
		require.Equal(t, "/", set.Path, "the session opens /monitoring/ too")
		require.False(t, set.Secure, "plain HTTP from an untrusted peer: not Secure")
		require.NotContains(t, set.Value, testAPIToken)

		resp, body := b.get("/ui/")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, nb.tenant)
		resp, _ = b.get("/monitoring/")
		require.Equal(t, http.StatusOK, resp.StatusCode, "the console session opens the queues UI")

		old := b.cookie("psasync_session")
		resp, _ = b.post("/ui/signout", url.Values{"csrf": {b.csrf("/ui/")}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		// The old cookie is dead on the server, not just deleted in this browser.
		stale := newUIBrowser(t, base)
		u, _ := url.Parse(base + "/ui/")
		stale.c.Jar.SetCookies(u, []*http.Cookie{{Name: old.Name, Value: old.Value, Path: "/"}})
		resp, _ = stale.get("/ui/")
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, "an ended session sends the browser to sign in")
		resp, _ = stale.post("/ui/tenants/"+nb.tenant+"/sync", url.Values{"csrf": {"anything"}, "dry_run": {"true"}})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		resp, _ = stale.get("/monitoring/")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
}

func TestConsoleActionsNeedCSRFAndTheAdminToken(t *testing.T) {
	t.Parallel()
	nb := startConsoleNode(t, nil)
	base := nb.n.BaseURL()
	runsBefore := func() int {
		recs, err := nb.n.Engine().Store().Runs(context.Background(), ledger.RunQuery{Tenant: nb.tenant}, 100)
		require.NoError(t, err)
		return len(recs)
	}
	n0 := runsBefore()

	admin := newUIBrowser(t, base)
	resp, _ := admin.signIn(testAPIToken)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	page := "/ui/tenants/" + nb.tenant
	for name, form := range map[string]url.Values{
		"no CSRF token":    {"dry_run": {"true"}},
		"wrong CSRF token": {"dry_run": {"true"}, "csrf": {"forged-token-value"}},
	} {
		resp, body := admin.post(page+"/sync", form)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s: %s", name, body)
	}
	// Another session's token is not this session's.
	other := newUIBrowser(t, base)
	other.signIn(testAPIToken)
	resp, _ = admin.post(page+"/sync", url.Values{"csrf": {other.csrf(page)}, "dry_run": {"true"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	reader := newUIBrowser(t, base)
	resp, _ = reader.signIn(testReadToken)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, body := reader.get(page)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotContains(t, body, "Sync now</button>", "read-only sessions get no buttons")
	resp, body = reader.post(page+"/sync", url.Values{"csrf": {reader.csrf(page)}, "dry_run": {"false"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	require.Contains(t, body, "read-only")
	resp, _ = reader.get("/monitoring/")
	require.Equal(t, http.StatusOK, resp.StatusCode, "read-only sessions see the queues")
	req, _ := http.NewRequest(http.MethodPost, base+"/monitoring/api/queues/"+nb.n.Queues().Low+":pause", nil)
	resp, _ = reader.do(req)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "and cannot pause one")
	require.Equal(t, n0, runsBefore(), "no refused action started a run")

	// The admin's button starts a run through the run API's path.
	runPage := startRunFromConsole(t, nb, admin, "", true)
	require.Equal(t, n0+1, runsBefore())
	resp, body = admin.get(runPage)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "dry run: nothing was written")
}

// TestConsoleSlowsRepeatedFailedSignIns: after the free failures an address
// is locked out, also for the right token and on another replica.
func TestConsoleSlowsRepeatedFailedSignIns(t *testing.T) {
	t.Parallel()
	nb := startConsoleNode(t, nil)
	b := newUIBrowser(t, nb.n.BaseURL())
	for i := range 4 {
		resp, body := b.signIn("wrong-token-0123456789abc")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "failure %d", i+1)
		if i == 3 {
			require.Contains(t, body, "Try again in", "the fourth failure starts a lockout")
		}
	}
	resp, body := b.signIn(testAPIToken)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "locked out even with the right token")
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.Contains(t, body, "Too many failed sign-ins")
	require.Nil(t, b.cookie("psasync_session"))

	// A second replica on the same Redis knows about the lockout.
	replica := startNodeWith(t, nb.env, nb.n.App().Config(), nodeOpts{roles: app.RoleWebhook})
	rb := newUIBrowser(t, replica.n.BaseURL())
	resp, _ = rb.signIn(testAPIToken)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the lockout is shared through Redis")
}

// TestConsolePagesShowNoSecret opens every page as the admin and greps it
// for each secret of the config and the subscription's clientState.
func TestConsolePagesShowNoSecret(t *testing.T) {
	t.Parallel()
	nb := startConsoleNode(t, func(c *config.Config) {
		c.Server.Monitoring.BasicAuthUser, c.Server.Monitoring.BasicAuthPassword = "msp", "monitoring-secret-0123456789"
	})
	b := newUIBrowser(t, nb.n.BaseURL())
	resp, _ := b.signIn(testAPIToken)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	runPage := startRunFromConsole(t, nb, b, "incremental", false)

	rec, ok, err := nb.n.Subscriptions().ByTenant(context.Background(), nb.tenant)
	require.NoError(t, err)
	require.True(t, ok)
	cfg := nb.n.App().Config()
	secrets := map[string]string{
		"clientState": rec.ClientState, "server.api_token": cfg.Server.APIToken, "server.read_token": cfg.Server.ReadToken,
		"graph.client_secret": cfg.Graph.ClientSecret, "psa.connectwise.private_key": cfg.PSA.ConnectWise.PrivateKey,
		"server.monitoring.basic_auth_password": cfg.Server.Monitoring.BasicAuthPassword,
	}
	for i, tn := range cfg.Tenants {
		secrets[fmt.Sprintf("tenants[%d].graph.client_secret", i)] = tn.Graph.ClientSecret
	}
	require.GreaterOrEqual(t, len(rec.ClientState), 8, "the subscription has a clientState to look for")
	pages := []string{"/ui/", "/ui/?problems=1", "/ui/tenants/" + nb.tenant, runPage, runPage + "/report.json", runPage + "/report.csv",
		runPage + "?show=errors", "/ui/jobs", "/ui/changes", "/ui/changes.csv", "/ui/conflicts", "/ui/held", "/ui/quarantine", "/ui/nope", "/ui/signin"}
	for _, p := range pages {
		resp, body := b.get(p)
		require.Contains(t, []int{http.StatusOK, http.StatusNotFound, http.StatusSeeOther}, resp.StatusCode, p)
		for key, s := range secrets {
			if len(s) >= 8 {
				require.NotContains(t, body, s, "%s shows %s", p, key)
			}
		}
	}
}

// TestConsoleCookieIsSecureBehindATLSProxy: behind a trusted proxy that
// says X-Forwarded-Proto: https, the session cookie is Secure; the same
// header from an untrusted peer changes nothing (TestConsoleSignIn).
func TestConsoleCookieIsSecureBehindATLSProxy(t *testing.T) {
	t.Parallel()
	nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise},
		tune: func(c *config.Config) { c.Server.TrustedProxies = []string{"127.0.0.1/32"} }})
	b := newUIBrowser(t, nb.n.BaseURL())
	req, err := http.NewRequest(http.MethodGet, nb.n.BaseURL()+"/ui/signin", nil)
	require.NoError(t, err)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, body := b.do(req)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	m := csrfField.FindStringSubmatch(body)
	require.NotNil(t, m)
	var signin *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "psasync_signin" {
			signin = c
		}
	}
	require.NotNil(t, signin)
	require.True(t, signin.Secure, "the sign-in form's cookie too")

	form := url.Values{"csrf": {m[1]}, "token": {testAPIToken}}
	req, err = http.NewRequest(http.MethodPost, nb.n.BaseURL()+"/ui/signin", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.AddCookie(&http.Cookie{Name: signin.Name, Value: signin.Value})
	resp, body = b.do(req)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "psasync_session" {
			sess = c
		}
	}
	require.NotNil(t, sess)
	require.True(t, sess.Secure)
	require.True(t, sess.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, sess.SameSite)
}
