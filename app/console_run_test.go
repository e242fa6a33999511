package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/worker"
)

// TestConsoleRunPage: a display name of <script> renders as text; the
// filters cut the report and the exports follow them.
func TestConsoleRunPage(t *testing.T) {
	t.Parallel()
	// No subscription: the new user reaches the PSA through the console's
	// run, not through a notification's job.
	nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise}})
	u := newGraphUser(t, nb.env, "injection")
	_, err := nb.env.Graph.UpdateUser(nb.tenant, u.ID, map[string]any{"displayName": "<script>alert(1)</script>"})
	require.NoError(t, err)

	b := newUIBrowser(t, nb.n.BaseURL())
	resp, _ := b.signIn(testAPIToken)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	runPage := startRunFromConsole(t, nb, b, "full", false)

	resp, body := b.get(runPage + "?q=injection")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;", "the display name renders as text")
	require.NotContains(t, body, "<script>")
	require.Equal(t, "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		resp.Header.Get("Content-Security-Policy"))

	_, body = b.get(runPage + "?show=created&q=injection")
	require.Contains(t, body, "injection@")
	require.NotContains(t, body, `id="updated"`, "the filter shows created contacts only")
	resp, body = b.get(runPage + "/report.csv?show=created&q=injection")
	require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	lines := strings.Split(strings.TrimSpace(body), "\n")
	require.GreaterOrEqual(t, len(lines), 2, "header and the created contact: %s", body)
	for _, l := range lines[1:] {
		require.True(t, strings.HasPrefix(l, "created,injection@"), "only the filtered contact: %s", l)
	}
	resp, body = b.get(runPage + "/report.json")
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.Contains(t, body, `"created_contacts"`)
	require.Contains(t, body, `\u003cscript\u003e`, "the JSON carries the name, escaped")

	// The tenant page lists the newest changes, the new contact's among them.
	_, body = b.get("/ui/tenants/" + nb.tenant)
	require.Contains(t, body, `id="changes"`)
	require.Regexp(t, `href="/ui/changes\?contact=\d+"`, body)

	// An update shows each field's old and new value.
	_, err = nb.env.Graph.UpdateUser(nb.tenant, u.ID, map[string]any{"jobTitle": "Chief <b>Tester</b>"})
	require.NoError(t, err)
	runPage = startRunFromConsole(t, nb, b, "full", false)
	_, body = b.get(runPage + "?show=updated&q=injection")
	require.Regexp(t, `<code>job_title</code>: .+ → Chief &lt;b&gt;Tester&lt;/b&gt;`, body)
	_, body = b.get(runPage + "/report.csv?show=updated&q=injection")
	require.Contains(t, body, ",job_title,")
	require.Contains(t, body, ",Chief <b>Tester</b>,")
}

// TestConsoleAppliesAPlan: "Apply this plan" on a dry run runs its inputs
// for real; the run's page says it wrote exactly the plan, or, when the
// data changed in between, what differs.
func TestConsoleAppliesAPlan(t *testing.T) {
	t.Parallel()
	nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise, seedPSA: true}})
	b := newUIBrowser(t, nb.n.BaseURL())
	b.signIn(testAPIToken)
	apply := func(dryPage string) string {
		resp, body := b.post(dryPage+"/apply", url.Values{"csrf": {b.csrf(dryPage)}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
		loc := resp.Header.Get("Location")
		rec := waitConsoleRun(t, nb, loc)
		require.False(t, rec.Inputs.DryRun)
		require.Equal(t, worker.ModeFull, rec.Inputs.SyncMode, "the plan's inputs")
		return loc
	}

	dry := startRunFromConsole(t, nb, b, "full", true)
	_, body := b.get(dry)
	require.Contains(t, body, "Apply this plan")
	_, body = b.get(apply(dry))
	require.Contains(t, body, "it wrote exactly what the preview planned")
	_, body = b.get(apply(dry))
	require.Contains(t, body, "The data changed since dry run", "the plan was applied already: nothing is left to write")

	dry = startRunFromConsole(t, nb, b, "full", true)
	u := firstSyncable(t, nb.testBundle)
	_, err := nb.env.Graph.UpdateUser(nb.tenant, u.ID, map[string]any{"jobTitle": "Changed after the preview"})
	require.NoError(t, err)
	_, body = b.get(apply(dry))
	require.Contains(t, body, "The data changed since dry run")
	require.Contains(t, body, "Changed after the preview", "the write the preview did not plan")

	real, _, _ := strings.Cut(apply(dry), "?")
	resp, _ := b.post(real+"/apply", url.Values{"csrf": {b.csrf(dry)}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "a real run is no plan")
}
