package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/ledger"
)

// TestConsoleResolvesConflicts: the seeded duplicates are open conflicts
// with their candidates side by side; the admin links one and ignores the
// other; a stale second link is refused; the read-only token cannot act.
func TestConsoleResolvesConflicts(t *testing.T) {
	t.Parallel()
	nb := startConsoleNode(t, nil)
	ctx := context.Background()
	led := nb.n.App().Ledger()
	open, err := led.Conflicts(ctx, nb.tenant, ledger.ConflictOpen)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(open), 2, "the seeded duplicates opened conflicts")
	first, second := open[0], open[1]
	require.GreaterOrEqual(t, len(first.Candidates), 2)

	admin := newUIBrowser(t, nb.n.BaseURL())
	admin.signIn(testAPIToken)
	resp, body := admin.get("/ui/conflicts?tenant=" + nb.tenant)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, first.UPN)
	for _, c := range first.Candidates {
		require.Contains(t, body, `value="`+c.ContactID+`"`, "each candidate has its link button")
	}
	require.Contains(t, body, "Ignore this user")

	reader := newUIBrowser(t, nb.n.BaseURL())
	reader.signIn(testReadToken)
	resp, _ = reader.post("/ui/conflicts/resolve", url.Values{"csrf": {reader.csrf("/ui/conflicts")}, "tenant": {nb.tenant},
		"user": {first.UserID}, "contact": {first.Candidates[0].ContactID}, "action": {"link"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	link := func(contact string) (*http.Response, string) {
		return admin.post("/ui/conflicts/resolve", url.Values{"csrf": {admin.csrf("/ui/conflicts")}, "tenant": {nb.tenant},
			"user": {first.UserID}, "contact": {contact}, "action": {"link"}})
	}
	resp, body = link(first.Candidates[0].ContactID)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "is linked to contact "+first.Candidates[0].ContactID)
	c, ok, err := led.Conflict(ctx, nb.tenant, first.UserID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, ledger.ConflictResolved, c.Status)
	require.Equal(t, "console (API token)", c.Actor)

	resp, body = link(first.Candidates[1].ContactID)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "a resolved conflict cannot be linked again elsewhere")
	require.Contains(t, body, "Nothing was changed")

	resp, body = admin.post("/ui/conflicts/resolve", url.Values{"csrf": {admin.csrf("/ui/conflicts")}, "tenant": {nb.tenant},
		"user": {second.UserID}, "action": {"ignore"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	c, _, err = led.Conflict(ctx, nb.tenant, second.UserID)
	require.NoError(t, err)
	require.Equal(t, ledger.ConflictIgnored, c.Status)

	_, body = admin.get("/ui/changes?user=" + first.UserID)
	require.Contains(t, body, "operator", "the link's write is in the change log, by the operator")
}

// TestConsoleDecidesHeldBatch: a held batch lists its contacts with their
// reasons; the admin approves one (it is deactivated in the PSA) and
// rejects the rest; approving the decided contact again is refused.
func TestConsoleDecidesHeldBatch(t *testing.T) {
	t.Parallel()
	nb := startConsoleNode(t, nil)
	ctx := context.Background()
	var held []ledger.HeldContact
	for _, c := range nb.env.PSA.Contacts(nb.company) {
		if c.ExternalID != "" && !c.Inactive && len(held) < 3 {
			held = append(held, ledger.HeldContact{ContactID: strconv.Itoa(c.ID), UserID: c.ExternalID, UPN: c.Email, Reason: "user disabled"})
		}
	}
	require.Len(t, held, 3)
	batch, _, err := nb.n.App().Ledger().Hold(ctx, nb.tenant, strconv.Itoa(nb.company), held)
	require.NoError(t, err)

	admin := newUIBrowser(t, nb.n.BaseURL())
	admin.signIn(testAPIToken)
	resp, body := admin.get("/ui/held")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, batch.ID)
	require.Contains(t, body, "user disabled")

	decide := func(action string, contacts ...string) (*http.Response, string) {
		return admin.post("/ui/held/decide", url.Values{"csrf": {admin.csrf("/ui/held")}, "batch": {batch.ID}, "action": {action}, "contact": contacts})
	}
	resp, body = decide("approve", held[0].ContactID)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "Approved: 1 contacts deactivated")
	for _, c := range nb.env.PSA.Contacts(nb.company) {
		if strconv.Itoa(c.ID) == held[0].ContactID {
			require.True(t, c.Inactive, "the approved contact is deactivated in the PSA")
		}
		if strconv.Itoa(c.ID) == held[1].ContactID {
			require.False(t, c.Inactive, "the others are not")
		}
	}
	resp, body = decide("reject")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "Rejected: 2 contacts")
	resp, body = decide("approve", held[0].ContactID)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "a decided batch takes no decision: %s", body)
	require.Contains(t, body, "Nothing was changed")
}

// TestConsoleSyncsAUser: a dry run shows the trace and writes nothing, the
// admin's sync creates the contact, the read-only token may dry-run only,
// and an unknown user is refused by name.
func TestConsoleSyncsAUser(t *testing.T) {
	t.Parallel()
	nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise}, tune: func(c *config.Config) { c.Server.ReadToken = testReadToken }})
	u := firstSyncable(t, nb.testBundle)
	admin := newUIBrowser(t, nb.n.BaseURL())
	admin.signIn(testAPIToken)
	form := func(b *uiBrowser, user, dry string) url.Values {
		return url.Values{"csrf": {b.csrf("/ui/sync-user")}, "tenant": {nb.tenant}, "user": {user}, "dry_run": {dry}}
	}
	_, written := nb.writes(func() {
		resp, body := admin.post("/ui/sync-user", form(admin, u.UserPrincipalName, "true"))
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.Contains(t, body, "Trace (dry run)")
		require.Contains(t, body, "<strong>match</strong>")
		require.Contains(t, body, "<code>userPrincipalName</code>")
	})
	require.Zero(t, written, "the dry run wrote nothing")
	require.Empty(t, contactsByEmail(nb.env, u.Mail))

	resp, body := admin.post("/ui/sync-user", form(admin, u.UserPrincipalName, "false"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "Outcome: <strong>created</strong>")
	require.Len(t, contactsByEmail(nb.env, u.Mail), 1)

	reader := newUIBrowser(t, nb.n.BaseURL())
	reader.signIn(testReadToken)
	resp, _ = reader.post("/ui/sync-user", form(reader, u.UserPrincipalName, "true"))
	require.Equal(t, http.StatusOK, resp.StatusCode, "a dry run changes nothing: read-only may")
	resp, _ = reader.post("/ui/sync-user", form(reader, u.UserPrincipalName, "false"))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	resp, body = admin.post("/ui/sync-user", form(admin, "nobody@nowhere.example", "true"))
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	require.Contains(t, body, "Nothing was changed")
	require.Contains(t, body, "nobody@nowhere.example")
}

// TestConsoleReleasesQuarantine: a quarantined user is listed with what to
// do, and released from the console once.
func TestConsoleReleasesQuarantine(t *testing.T) {
	t.Parallel()
	nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise}})
	ctx := context.Background()
	u := firstSyncable(t, nb.testBundle)
	for range 3 {
		_, _, err := nb.n.App().Ledger().RecordFailure(ctx, nb.tenant, u.ID, u.UserPrincipalName, "UserDataIncomplete", "no mail", "fp", 3)
		require.NoError(t, err)
	}
	admin := newUIBrowser(t, nb.n.BaseURL())
	admin.signIn(testAPIToken)
	resp, body := admin.get("/ui/quarantine")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, u.UserPrincipalName)
	require.Contains(t, body, "Fill it in Microsoft 365", "the remedy for the code")
	release := func() (*http.Response, string) {
		return admin.post("/ui/quarantine/release", url.Values{"csrf": {admin.csrf("/ui/quarantine")}, "tenant": {nb.tenant}, "user": {u.ID}})
	}
	resp, body = release()
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "Released user")
	_, body = admin.get("/ui/quarantine")
	require.Contains(t, body, "Nobody is quarantined.")
	resp, body = release()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, body, "is not quarantined")
}
