package psatest

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

// bundle is one subtest's simulator, client and Front.
type bundle struct {
	h         Harness
	ctx       context.Context
	client    psa.Client
	sim       Sim
	front     *Front
	supported []psa.Field
}

// newBundle runs the vendor's Setup for one subtest.
func newBundle(t *testing.T, h Harness) *bundle {
	t.Helper()
	front := &Front{}
	client, sim := h.Setup(t, front)
	require.NotNil(t, client)
	for name, fn := range map[string]any{"Seed": sim.Seed, "Stored": sim.Stored, "Fail": sim.Fail, "Reads": sim.Reads, "Writes": sim.Writes} {
		require.NotNil(t, fn, "psatest: Sim.%s is missing", name)
	}
	return &bundle{h: h, ctx: t.Context(), client: client, sim: sim, front: front, supported: client.SupportedFields()}
}

// check is one behaviour of the suite.
type check struct {
	name string
	run  func(t *testing.T, h Harness)
}

// checks is the suite, in the order psa/README.md lists it.
var checks = []check{
	{"create", single(checkCreate)},
	{"get", single(checkGet)},
	{"supported fields", single(checkSupportedFields)},
	{"pages of a company", single(checkPages)},
	{"listing stops early", single(checkStopEarly)},
	{"find by email", single(checkFindByEmail)},
	{"find by object id", single(checkFindByExternalID)},
	{"update writes only the changed field", checkUpdateOnlyChanged},
	{"deactivate and reactivate", checkActivation},
	{"duplicate", single(checkDuplicate)},
	{"not found", single(checkNotFound)},
	{"bad ids never reach the PSA", single(checkBadIDs)},
	{"permission", faultCheck(Fault{Kind: FaultPermission}, psa.ErrPermission)},
	{"rate limited", faultCheck(Fault{Kind: FaultRateLimited, RetryAfter: 7 * time.Second}, psa.ErrRateLimited)},
	{"unavailable", faultCheck(Fault{Kind: FaultUnavailable}, psa.ErrConnection)},
	{"validation", faultCheck(Fault{Kind: FaultInvalid}, psa.ErrInvalid)},
	{"connection error", checkConnectionError},
	{"oversized answer", checkOversized},
}

// single runs fn on one fresh bundle.
func single(fn func(t *testing.T, b *bundle)) func(t *testing.T, h Harness) {
	return func(t *testing.T, h Harness) { fn(t, newBundle(t, h)) }
}

// sample is a contact with every supported field set, tagged so that
// contacts of one test differ.
func (b *bundle) sample(company, tag string) psa.Contact {
	c := psa.Contact{CompanyID: company}
	for _, f := range b.supported {
		switch f {
		case psa.FieldEmail:
			c.Email = tag + "@contoso.example"
		case psa.FieldPhone:
			c.Phone = "+1 555 0100"
		case psa.FieldMobilePhone:
			c.MobilePhone = "+1 555 0101"
		case psa.FieldDepartment:
			c.Department = Departments()[0]
		case psa.FieldExternalID:
			c.ExternalID = "oid-" + tag
		case psa.FieldInactive:
		default:
			c.Set(f, "Sample "+string(f)+" "+tag)
		}
	}
	c.FirstName, c.LastName = "Ada", "Lovelace-"+tag
	return c
}

// changed is the new value the update check writes into f.
func changed(f psa.Field) string {
	switch f {
	case psa.FieldEmail:
		return "changed@contoso.example"
	case psa.FieldPhone:
		return "+1 555 0199"
	case psa.FieldMobilePhone:
		return "+1 555 0198"
	case psa.FieldDepartment:
		return Departments()[1]
	case psa.FieldExternalID:
		return "oid-changed"
	}
	return "Changed " + string(f)
}

// stale is what the update check puts into the fields it does not list: a
// client that sends them writes a value that contains "stale".
func stale(f psa.Field) string {
	if f == psa.FieldEmail {
		return "stale@stale.example"
	}
	return "stale " + string(f)
}

// seed stores c through the simulator and returns it as stored, with its id.
func (b *bundle) seed(t *testing.T, c psa.Contact) psa.Contact {
	t.Helper()
	id := b.sim.Seed(c)
	require.NotEmpty(t, id)
	return b.stored(t, id)
}

// stored reads a contact back from the simulator; it must exist.
func (b *bundle) stored(t *testing.T, id string) psa.Contact {
	t.Helper()
	c, ok := b.sim.Stored(id)
	require.True(t, ok, "the simulator has no contact %s", id)
	c.ID = id
	return c
}

// requireSame compares the supported fields of two contacts.
func (b *bundle) requireSame(t *testing.T, want, got psa.Contact, msg string) {
	t.Helper()
	for _, f := range b.supported {
		require.Equal(t, want.Get(f), got.Get(f), "%s: field %s", msg, f)
	}
}

// requireFoundOnly checks a find call's answer: no error, and exactly the
// contact want with its fields as seeded.
func (b *bundle) requireFoundOnly(t *testing.T, want psa.Contact, got []psa.Contact, err error, msg string) {
	t.Helper()
	require.NoError(t, err, msg)
	require.Len(t, got, 1, msg)
	require.Equal(t, want.ID, got[0].ID, msg)
	b.requireSame(t, want, got[0], "the contact found")
}

// requireNoneFound checks that a find call found nothing, without error.
func requireNoneFound(t *testing.T, got []psa.Contact, err error, msg string) {
	t.Helper()
	require.NoError(t, err, msg)
	require.Empty(t, got, msg)
}

// list drains ListContacts.
func (b *bundle) list(t *testing.T, company string) []psa.Contact {
	t.Helper()
	var out []psa.Contact
	for c, err := range b.client.ListContacts(b.ctx, company) {
		require.NoError(t, err)
		out = append(out, c)
	}
	return out
}

// requestsSince returns the requests that reached the simulator after the
// first n.
func (b *bundle) requestsSince(n int) []Request { return b.front.Requests()[n:] }

func checkCreate(t *testing.T, b *bundle) {
	want := b.sample(b.sim.Company, "create")
	writes := b.sim.Writes()
	got, err := b.client.CreateContact(b.ctx, want)
	require.NoError(t, err)
	require.NotEmpty(t, got.ID, "a created contact has its new id")
	require.Equal(t, b.sim.Company, got.CompanyID)
	b.requireSame(t, want, got, "the returned contact")
	b.requireSame(t, want, b.stored(t, got.ID), "the stored contact")
	require.Equal(t, writes+1, b.sim.Writes(), "a create is one write")
}

func checkGet(t *testing.T, b *bundle) {
	want := b.seed(t, b.sample(b.sim.Company, "get"))
	got, err := b.client.GetContact(b.ctx, want.ID)
	require.NoError(t, err)
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, b.sim.Company, got.CompanyID)
	b.requireSame(t, want, got, "the contact read")
}

func checkSupportedFields(t *testing.T, b *bundle) {
	for _, f := range []psa.Field{psa.FieldFirstName, psa.FieldLastName, psa.FieldEmail, psa.FieldInactive} {
		require.Contains(t, b.supported, f, "the engine cannot sync without it")
	}
	seen := map[psa.Field]bool{}
	for _, f := range b.supported {
		require.True(t, psa.IsField(string(f)), "%q is not a psa field", f)
		require.False(t, seen[f], "%q is listed twice", f)
		seen[f] = true
	}
}

// checkPages: a company of 2 pages and one contact is listed whole (its
// inactive contacts too, no other company's) at one read per page.
func checkPages(t *testing.T, b *bundle) {
	n := 2*b.h.PageSize + 1
	want := map[string]bool{}
	for i := range n {
		c := b.sample(b.sim.Company, "page"+strconv.Itoa(i))
		c.Inactive = i%3 == 0
		want[b.sim.Seed(c)] = true
	}
	b.sim.Seed(b.sample(b.sim.OtherCompany, "other1"))
	b.sim.Seed(b.sample(b.sim.OtherCompany, "other2"))

	reads := b.sim.Reads()
	got := map[string]bool{}
	for _, c := range b.list(t, b.sim.Company) {
		require.Equal(t, b.sim.Company, c.CompanyID)
		require.False(t, got[c.ID], "contact %s listed twice", c.ID)
		got[c.ID] = true
		require.Equal(t, b.stored(t, c.ID).Inactive, c.Inactive, "contact %s", c.ID)
	}
	require.Equal(t, want, got)
	require.Equal(t, 3, b.sim.Reads()-reads, "one read per page of %d", b.h.PageSize)
}

func checkStopEarly(t *testing.T, b *bundle) {
	for i := range 2*b.h.PageSize + 1 {
		b.sim.Seed(b.sample(b.sim.Company, "early"+strconv.Itoa(i)))
	}
	reads := b.sim.Reads()
	for _, err := range b.client.ListContacts(b.ctx, b.sim.Company) {
		require.NoError(t, err)
		break
	}
	require.Equal(t, 1, b.sim.Reads()-reads, "stopping after the first contact reads no further page")
}

func checkFindByEmail(t *testing.T, b *bundle) {
	match := b.seed(t, b.sample(b.sim.Company, "match"))
	b.seed(t, b.sample(b.sim.Company, "nomatch"))
	other := b.sample(b.sim.OtherCompany, "other")
	other.Email = match.Email
	b.seed(t, other)

	got, err := b.client.FindContactsByEmail(b.ctx, b.sim.Company, strings.ToUpper(match.Email))
	b.requireFoundOnly(t, match, got, err, "only the company's contact with that email, in any casing")

	got, err = b.client.FindContactsByEmail(b.ctx, b.sim.Company, "nobody@contoso.example")
	requireNoneFound(t, got, err, "no contact has that email")
}

// checkFindByExternalID: the lookup that finds a contact again after its
// cached link is lost returns the company's contact with that object id,
// whatever its email and active or not, and no other company's.
func checkFindByExternalID(t *testing.T, b *bundle) {
	if !slices.Contains(b.supported, psa.FieldExternalID) {
		got, err := b.client.FindContactsByExternalID(b.ctx, b.sim.Company, "oid-any")
		requireNoneFound(t, got, err, "a configuration that stores no object id finds none")
		return
	}
	match := b.sample(b.sim.Company, "match")
	match.Email, match.Inactive = "renamed@contoso.example", true
	match = b.seed(t, match)
	b.seed(t, b.sample(b.sim.Company, "nomatch"))
	other := b.sample(b.sim.OtherCompany, "other")
	other.ExternalID = match.ExternalID
	b.seed(t, other)

	got, err := b.client.FindContactsByExternalID(b.ctx, b.sim.Company, match.ExternalID)
	b.requireFoundOnly(t, match, got, err, "only the company's contact with that object id")

	got, err = b.client.FindContactsByExternalID(b.ctx, b.sim.Company, "oid-nobody")
	requireNoneFound(t, got, err, "no contact has that object id")
	got, err = b.client.FindContactsByExternalID(b.ctx, b.sim.OtherCompany, match.ExternalID)
	require.NoError(t, err)
	require.Len(t, got, 1, "the other company finds its own contact")
	require.NotEqual(t, match.ID, got[0].ID)
}

// checkUpdateOnlyChanged updates one supported field at a time from a
// contact whose other fields are stale: only the listed field may change in
// the PSA, no request may carry a stale value, and the update is one write.
// A name change may rewrite a display name made of both names, so the other
// name is left current.
func checkUpdateOnlyChanged(t *testing.T, h Harness) {
	fields := slices.DeleteFunc(newBundle(t, h).supported, func(f psa.Field) bool { return f == psa.FieldInactive })
	for _, f := range fields {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, h)
			before := b.seed(t, b.sample(b.sim.Company, "update"))
			ct := before
			for _, g := range b.supported {
				switch {
				case g == f, f == psa.FieldFirstName && g == psa.FieldLastName, f == psa.FieldLastName && g == psa.FieldFirstName:
				case g == psa.FieldInactive:
					ct.Inactive = !before.Inactive
				default:
					ct.Set(g, stale(g))
				}
			}
			ct.Set(f, changed(f))
			sent, writes := len(b.front.Requests()), b.sim.Writes()

			got, err := b.client.UpdateContact(b.ctx, ct, []psa.Field{f})
			require.NoError(t, err)
			require.Equal(t, changed(f), got.Get(f), "the returned contact")
			after := b.stored(t, before.ID)
			want := before
			want.Set(f, changed(f))
			b.requireSame(t, want, after, "the stored contact")
			require.Equal(t, writes+1, b.sim.Writes(), "an update is one write")
			for _, r := range b.requestsSince(sent) {
				require.False(t, bytes.Contains(r.Body, []byte("stale")), "%s %s sent a field that was not listed: %s", r.Method, r.Path, r.Body)
			}
		})
	}
}

// checkActivation deactivates an active contact and reactivates an
// inactive one: only the flag changes, reads agree, and an inactive contact
// is still listed.
func checkActivation(t *testing.T, h Harness) {
	for _, tt := range []struct {
		name     string
		inactive bool
	}{{"deactivate", true}, {"reactivate", false}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, h)
			c := b.sample(b.sim.Company, tt.name)
			c.Inactive = !tt.inactive
			before := b.seed(t, c)
			require.Equal(t, !tt.inactive, before.Inactive)
			ct := before
			ct.Inactive = tt.inactive
			got, err := b.client.UpdateContact(b.ctx, ct, []psa.Field{psa.FieldInactive})
			require.NoError(t, err)
			require.Equal(t, tt.inactive, got.Inactive, "the returned contact")
			b.requireSame(t, ct, b.stored(t, before.ID), "the stored contact")
			read, err := b.client.GetContact(b.ctx, before.ID)
			require.NoError(t, err)
			require.Equal(t, tt.inactive, read.Inactive, "the contact read")
			listed := b.list(t, b.sim.Company)
			require.Len(t, listed, 1, "inactive or not, the contact is listed")
			require.Equal(t, tt.inactive, listed[0].Inactive)
		})
	}
}

func checkDuplicate(t *testing.T, b *bundle) {
	first := b.seed(t, b.sample(b.sim.Company, "twin"))
	again := b.sample(b.sim.Company, "twin")
	_, err := b.client.CreateContact(b.ctx, again)
	require.ErrorIs(t, err, psa.ErrDuplicate)
	requireVendorText(t, err)
	listed := b.list(t, b.sim.Company)
	require.Len(t, listed, 1, "the PSA still has one contact")
	require.Equal(t, first.ID, listed[0].ID)
}

func checkNotFound(t *testing.T, b *bundle) {
	_, err := b.client.GetContact(b.ctx, "987654")
	require.ErrorIs(t, err, psa.ErrNotFound)
	var pe *psa.Error
	require.ErrorAs(t, err, &pe)
	require.NotEmpty(t, pe.Op)
}

func checkBadIDs(t *testing.T, b *bundle) {
	calls := map[string]func() error{
		"get": func() error { _, err := b.client.GetContact(b.ctx, "not-an-id"); return err },
		"list": func() error {
			for _, err := range b.client.ListContacts(b.ctx, "not-a-company") {
				return err
			}
			return nil
		},
		"find with no email": func() error { _, err := b.client.FindContactsByEmail(b.ctx, b.sim.Company, " "); return err },
		"find with no object id": func() error {
			_, err := b.client.FindContactsByExternalID(b.ctx, b.sim.Company, " ")
			return err
		},
		"find by object id in a bad company": func() error {
			_, err := b.client.FindContactsByExternalID(b.ctx, "not-a-company", "oid-1")
			return err
		},
		"create without company": func() error {
			_, err := b.client.CreateContact(b.ctx, psa.Contact{FirstName: "Ada", Email: "ada@contoso.example"})
			return err
		},
		"update": func() error {
			_, err := b.client.UpdateContact(b.ctx, psa.Contact{ID: "x", CompanyID: b.sim.Company, FirstName: "A"}, []psa.Field{psa.FieldFirstName})
			return err
		},
	}
	for name, call := range calls {
		require.ErrorIs(t, call(), psa.ErrInvalid, name)
	}
	require.Empty(t, b.front.Requests(), "a bad id is refused before anything is sent")
}
