package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/simkit/simenv"
)

// TestStateLossAndNewEmailCostNoDuplicate is issue 14's "no duplicate after
// state loss", for every PSA: a user is synced, Redis loses the worker's
// links and outcomes, the user's primary email changes with no alias left
// (mail, userPrincipalName and proxyAddresses), and the change arrives as a
// Graph notification through the webhook. Neither the link nor the email
// can find the contact any more; the object id kept on it does, so the
// contact is updated and never duplicated.
func TestStateLossAndNewEmailCostNoDuplicate(t *testing.T) {
	t.Parallel()
	for _, p := range psaTypes() {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var prefix string
			nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: p, users: 6}, subscribe: true,
				tune: func(c *config.Config) { prefix = c.Redis.Prefix() }})
			require.True(t, nb.fullSync(t).Success)
			u := firstSyncable(t, nb.testBundle)
			before := contactOf(t, nb.testBundle, u.ID)
			count := len(nb.env.PSA.Contacts(nb.company))

			// Redis loses what the worker cached: every link and outcome
			// under the test's own key prefix (the Redis may be shared).
			rdb := nb.stack.Redis()
			links, err := rdb.Keys(ctx, prefix+"link:*").Result()
			require.NoError(t, err)
			require.NotEmpty(t, links, "the sync cached links under %q", prefix)
			for _, pattern := range []string{prefix + "link:*", prefix + "outcome:*"} {
				keys, err := rdb.Keys(ctx, pattern).Result()
				require.NoError(t, err)
				if len(keys) > 0 {
					require.NoError(t, rdb.Del(ctx, keys...).Err())
				}
			}
			left, err := rdb.Keys(ctx, prefix+"link:*").Result()
			require.NoError(t, err)
			require.Empty(t, left, "the links are gone")

			local, domain, ok := strings.Cut(u.Mail, "@")
			require.True(t, ok)
			renamed := "renamed." + local + "@" + domain
			_, err = nb.env.Graph.UpdateUser(nb.tenant, u.ID, map[string]any{
				"mail": renamed, "userPrincipalName": renamed, "proxyAddresses": []string{"SMTP:" + renamed}})
			require.NoError(t, err)

			rec, found, err := nb.n.Subscriptions().ByTenant(ctx, nb.tenant)
			require.NoError(t, err)
			require.True(t, found)
			require.Equal(t, http.StatusAccepted, nb.postNotification(t, notification(rec.ID, rec.ClientState, nb.tenant, u.ID)))

			got := nb.waitContact(t, u.ID, func(c simenv.Contact) bool { return strings.EqualFold(c.Email, renamed) })
			nb.waitIdle(t)
			require.Equal(t, before.ID, got.ID, "the existing contact was updated")
			require.Len(t, nb.env.PSA.Contacts(nb.company), count, "no contact was created")
			var linked, withOld int
			for _, c := range nb.env.PSA.Contacts(nb.company) {
				if c.ExternalID == u.ID {
					linked++
				}
				if strings.EqualFold(c.Email, u.Mail) {
					withOld++
				}
			}
			require.Equal(t, 1, linked, "one contact carries the user's object id")
			require.Zero(t, withOld, "no contact keeps the old address")
		})
	}
}
