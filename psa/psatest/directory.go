package psatest

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/simkit"
)

// DirectorySim is how the directory suite drives a vendor's simulator.
// Companies go in as simkit's seed companies; the vendor's test stores
// them the vendor's way (the tenant id in the configured field).
type DirectorySim struct {
	// SeedCompany stores a company and its contacts behind the API and
	// returns the company's id.
	SeedCompany func(c simkit.Company) string
	// StoredTenantID reads the tenant id kept on a company from the
	// simulator's store (not through the API), and whether the company
	// exists.
	StoredTenantID func(companyID string) (string, bool)
	// Fail makes the next API request (not a token or zone lookup) answer
	// with f, once.
	Fail func(f Fault)
	// Reads and Writes are the simulator's counts of API reads and writes.
	Reads, Writes func() int
}

// DirectoryHarness is what a vendor's test hands to RunDirectory.
type DirectoryHarness struct {
	// Setup starts a fresh simulator with no companies behind front and
	// returns a client configured with pages of PageSize and a tenant-id
	// field, and the DirectorySim that drives it.
	Setup func(t *testing.T, front *Front) (psa.CompanyDirectory, DirectorySim)
	// PageSize is the client's page size for companies and contacts.
	PageSize int
}

// RunDirectory checks psa.CompanyDirectory: companies listed over several
// pages with their website domains, tenant ids and inactive flags; contacts'
// email domains per company; the tenant id written back and read again; an
// unknown company refused with psa.ErrNotFound; malformed ids refused
// before anything is sent; and the vendor's rate-limit and permission
// answers on every call.
func RunDirectory(t *testing.T, h DirectoryHarness) {
	t.Helper()
	if h.Setup == nil || h.PageSize <= 0 {
		t.Fatal("psatest: DirectoryHarness needs Setup and PageSize")
	}
	for _, c := range []struct {
		name string
		run  func(t *testing.T, b *dirBundle)
	}{
		{"lists companies over pages", checkListCompanies},
		{"contact domains", checkContactDomains},
		{"tenant id written back", checkSetTenantID},
		{"unknown company", checkUnknownCompany},
		{"bad ids never reach the PSA", checkDirectoryBadIDs},
		{"rate limited", func(t *testing.T, b *dirBundle) {
			checkDirectoryFault(t, b, Fault{Kind: FaultRateLimited, RetryAfter: 5 * time.Second}, psa.ErrRateLimited)
		}},
		{"permission", func(t *testing.T, b *dirBundle) {
			checkDirectoryFault(t, b, Fault{Kind: FaultPermission}, psa.ErrPermission)
		}},
		{"connection error", checkDirectoryConnection},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			front := &Front{}
			dir, sim := h.Setup(t, front)
			require.NotNil(t, dir)
			for name, fn := range map[string]any{"SeedCompany": sim.SeedCompany, "StoredTenantID": sim.StoredTenantID,
				"Fail": sim.Fail, "Reads": sim.Reads, "Writes": sim.Writes} {
				require.NotNil(t, fn, "psatest: DirectorySim.%s is missing", name)
			}
			c.run(t, &dirBundle{h: h, dir: dir, sim: sim, front: front})
		})
	}
}

// dirBundle is one directory subtest's client, simulator and Front.
type dirBundle struct {
	h     DirectoryHarness
	dir   psa.CompanyDirectory
	sim   DirectorySim
	front *Front
}

// TenantID is the i-th tenant id the suite stores: a well-formed GUID.
func TenantID(i int) string { return fmt.Sprintf("7e1a0000-0000-4000-8000-%012d", i) }

// seedCompanies seeds n companies: every third without a website, every
// second with a tenant id, the last one inactive. It returns them with
// their ids, as ListCompanies should report them.
func (b *dirBundle) seedCompanies(t *testing.T, n int) []psa.Company {
	t.Helper()
	var want []psa.Company
	for i := 1; i <= n; i++ {
		c := simkit.Company{Name: fmt.Sprintf("Customer %02d Ltd", i), Inactive: i == n}
		exp := psa.Company{Name: c.Name, Inactive: c.Inactive}
		if i%3 != 0 {
			c.Website = fmt.Sprintf("https://www.Customer%02d.example/", i)
			exp.Website, exp.Domains = c.Website, []string{fmt.Sprintf("customer%02d.example", i)}
		}
		if i%2 == 0 {
			c.TenantID, exp.TenantID = TenantID(i), TenantID(i)
		}
		exp.ID = b.sim.SeedCompany(c)
		want = append(want, exp)
	}
	return want
}

// checkListCompanies: every company comes back once, with its name,
// website and domain, tenant id and inactive flag, one read per page.
func checkListCompanies(t *testing.T, b *dirBundle) {
	want := b.seedCompanies(t, 2*b.h.PageSize+1)
	reads := b.sim.Reads()
	got, err := b.dir.ListCompanies(t.Context())
	require.NoError(t, err)
	read := b.sim.Reads() - reads
	byID := map[string]psa.Company{}
	for _, c := range got {
		_, dup := byID[c.ID]
		require.False(t, dup, "company %s listed twice", c.ID)
		byID[c.ID] = c
	}
	for _, w := range want {
		c, ok := byID[w.ID]
		require.True(t, ok, "company %s (%s) is missing from the listing", w.ID, w.Name)
		require.Equal(t, w, c)
	}
	pages := (len(got) + b.h.PageSize - 1) / b.h.PageSize
	require.GreaterOrEqual(t, read, pages, "%d companies in pages of %d take %d reads", len(got), b.h.PageSize, pages)
	require.LessOrEqual(t, read, pages+1, "one read per page (and at most one to learn there is no next page)")
}

// checkContactDomains: the distinct lowercase email domains of each asked
// company's contacts, read in pages; other companies, contacts without an
// email and unknown ids stay out.
func checkContactDomains(t *testing.T, b *dirBundle) {
	var contacts []simkit.Contact
	for i := range b.h.PageSize + 1 {
		contacts = append(contacts, simkit.Contact{FirstName: "Ann", LastName: fmt.Sprintf("Lee %d", i),
			Email: fmt.Sprintf("ann.lee%d@Contoso.example", i), ContactType: "End User"})
	}
	contacts = append(contacts,
		simkit.Contact{FirstName: "Bo", LastName: "Sub", Email: "bo@eu.contoso.example", ContactType: "End User"},
		simkit.Contact{FirstName: "No", LastName: "Mail", ContactType: "End User"})
	a := b.sim.SeedCompany(simkit.Company{Name: "Contoso Ltd", Website: "contoso.example", Contacts: contacts})
	f := b.sim.SeedCompany(simkit.Company{Name: "Fabrikam Inc", Contacts: []simkit.Contact{
		{FirstName: "Cy", LastName: "Fab", Email: "cy@fabrikam.example", ContactType: "End User", Inactive: true}}})
	other := b.sim.SeedCompany(simkit.Company{Name: "Northwind", Contacts: []simkit.Contact{
		{FirstName: "Di", LastName: "North", Email: "di@northwind.example", ContactType: "End User"}}})
	empty := b.sim.SeedCompany(simkit.Company{Name: "Empty Co"})

	reads := b.sim.Reads()
	got, err := b.dir.ContactDomains(t.Context(), []string{a, f, empty, "999999"})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{a: {"contoso.example", "eu.contoso.example"}, f: {"fabrikam.example"}}, got)
	require.Greater(t, b.sim.Reads()-reads, 1, "%d contacts in pages of %d need more than one read", len(contacts)+2, b.h.PageSize)

	one, err := b.dir.ContactDomains(t.Context(), []string{other})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{other: {"northwind.example"}}, one)

	none, err := b.dir.ContactDomains(t.Context(), nil)
	require.NoError(t, err)
	require.Empty(t, none)
}

// checkSetTenantID: the tenant id lands in the vendor's field, the answer
// and a new listing show it, and a second write replaces it.
func checkSetTenantID(t *testing.T, b *dirBundle) {
	id := b.sim.SeedCompany(simkit.Company{Name: "Contoso Ltd", Website: "https://contoso.example"})
	keep := b.sim.SeedCompany(simkit.Company{Name: "Fabrikam Inc", TenantID: TenantID(2)})
	writes := b.sim.Writes()
	c, err := b.dir.SetCompanyTenantID(t.Context(), id, TenantID(1))
	require.NoError(t, err)
	require.Equal(t, 1, b.sim.Writes()-writes, "one write")
	require.Equal(t, psa.Company{ID: id, Name: "Contoso Ltd", Website: "https://contoso.example",
		Domains: []string{"contoso.example"}, TenantID: TenantID(1)}, c)
	stored, ok := b.sim.StoredTenantID(id)
	require.True(t, ok)
	require.Equal(t, TenantID(1), stored)

	list, err := b.dir.ListCompanies(t.Context())
	require.NoError(t, err)
	seen := map[string]string{}
	for _, c := range list {
		if c.ID == id || c.ID == keep {
			seen[c.ID] = c.TenantID
		}
	}
	require.Equal(t, map[string]string{id: TenantID(1), keep: TenantID(2)}, seen, "read again, and the other company unchanged")

	c, err = b.dir.SetCompanyTenantID(t.Context(), id, " "+TenantID(3)+" ")
	require.NoError(t, err)
	require.Equal(t, TenantID(3), c.TenantID)
	stored, _ = b.sim.StoredTenantID(id)
	require.Equal(t, TenantID(3), stored)
	stored, _ = b.sim.StoredTenantID(keep)
	require.Equal(t, TenantID(2), stored)
}

// checkUnknownCompany: writing to a company that does not exist is
// psa.ErrNotFound and writes nothing.
func checkUnknownCompany(t *testing.T, b *dirBundle) {
	b.sim.SeedCompany(simkit.Company{Name: "Contoso Ltd"})
	writes := b.sim.Writes()
	_, err := b.dir.SetCompanyTenantID(t.Context(), "999999", TenantID(1))
	require.ErrorIs(t, err, psa.ErrNotFound)
	var pe *psa.Error
	require.ErrorAs(t, err, &pe)
	require.NotEmpty(t, pe.Op)
	require.Equal(t, writes, b.sim.Writes())
}

// checkDirectoryBadIDs: a company id the vendor cannot have and a tenant
// id that is not a GUID are psa.ErrInvalid, and nothing is sent.
func checkDirectoryBadIDs(t *testing.T, b *dirBundle) {
	id := b.sim.SeedCompany(simkit.Company{Name: "Contoso Ltd"})
	sent := len(b.front.Requests())
	for _, tc := range []struct{ company, tenant string }{
		{"abc", TenantID(1)}, {"", TenantID(1)}, {"-4", TenantID(1)},
		{id, ""}, {id, "not-a-guid"}, {id, TenantID(1) + "0"}, {id, "contoso.onmicrosoft.com"},
	} {
		_, err := b.dir.SetCompanyTenantID(t.Context(), tc.company, tc.tenant)
		require.ErrorIs(t, err, psa.ErrInvalid, "company %q tenant %q", tc.company, tc.tenant)
	}
	_, err := b.dir.ContactDomains(t.Context(), []string{"abc"})
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.Len(t, b.front.Requests(), sent, "bad ids are refused before anything is sent")
	stored, _ := b.sim.StoredTenantID(id)
	require.Empty(t, stored)
}

// dirOps are the directory's calls, for the failure checks.
func dirOps(company string) map[string]func(b *dirBundle, t *testing.T) error {
	return map[string]func(b *dirBundle, t *testing.T) error{
		"list companies": func(b *dirBundle, t *testing.T) error { _, err := b.dir.ListCompanies(t.Context()); return err },
		"contact domains": func(b *dirBundle, t *testing.T) error {
			_, err := b.dir.ContactDomains(t.Context(), []string{company})
			return err
		},
		"set tenant id": func(b *dirBundle, t *testing.T) error {
			_, err := b.dir.SetCompanyTenantID(t.Context(), company, TenantID(9))
			return err
		},
	}
}

// checkDirectoryFault: each call answered with the vendor's failure is the
// error class, sent once, and a rate limit carries its delay unslept.
func checkDirectoryFault(t *testing.T, b *dirBundle, f Fault, kind error) {
	id := b.sim.SeedCompany(simkit.Company{Name: "Contoso Ltd", Contacts: []simkit.Contact{
		{FirstName: "Ann", LastName: "Lee", Email: "ann@contoso.example", ContactType: "End User"}}})
	// A first call warms whatever the client learns once (zone, token).
	_, err := b.dir.ListCompanies(t.Context())
	require.NoError(t, err)
	for name, call := range dirOps(id) {
		sent := len(b.front.Requests())
		b.sim.Fail(f)
		start := time.Now()
		err := call(b, t)
		require.ErrorIs(t, err, kind, name)
		require.Len(t, b.front.Requests()[sent:], 1, "%s: sent once, not retried", name)
		if f.Kind == FaultRateLimited {
			d, ok := psa.RetryAfter(err)
			require.True(t, ok, name)
			require.Equal(t, f.RetryAfter, d, name)
			require.Less(t, time.Since(start), f.RetryAfter, "%s: the delay is returned, not slept", name)
		}
	}
	stored, _ := b.sim.StoredTenantID(id)
	require.Empty(t, stored, "a failed write wrote nothing")
}

// checkDirectoryConnection: a PSA that closes its connections is
// psa.ErrConnection on every call.
func checkDirectoryConnection(t *testing.T, b *dirBundle) {
	id := b.sim.SeedCompany(simkit.Company{Name: "Contoso Ltd"})
	_, err := b.dir.ListCompanies(t.Context())
	require.NoError(t, err)
	b.front.breakAll()
	for name, call := range dirOps(id) {
		require.ErrorIs(t, call(b, t), psa.ErrConnection, name)
	}
}

// BenchDirectory lists 1,000 companies and reads the contact domains of all
// of them (5 contacts each) through dir, and reports the PSA reads one
// onboarding pass costs: every vendor's BenchmarkDirectory1000.
func BenchDirectory(b *testing.B, dir psa.CompanyDirectory, sim DirectorySim) {
	ids := make([]string, 0, 1000)
	for i := range 1000 {
		var contacts []simkit.Contact
		for j := range 5 {
			contacts = append(contacts, simkit.Contact{FirstName: "U", LastName: strconv.Itoa(j), Email: fmt.Sprintf("u%d@customer%d.example", j, i)})
		}
		ids = append(ids, sim.SeedCompany(simkit.Company{Name: fmt.Sprintf("Customer %d", i),
			Website: fmt.Sprintf("customer%d.example", i), Contacts: contacts}))
	}
	reads := sim.Reads()
	for b.Loop() {
		list, err := dir.ListCompanies(b.Context())
		require.NoError(b, err)
		require.GreaterOrEqual(b, len(list), 1000)
		d, err := dir.ContactDomains(b.Context(), ids)
		require.NoError(b, err)
		require.Len(b, d, 1000)
	}
	b.ReportMetric(float64(sim.Reads()-reads)/float64(b.N), "requests/op")
}

// CompanySim is what the three PSA simulators share for companies.
type CompanySim interface {
	SeedCompany(c simkit.Company) int
	Company(id int) (simkit.Company, bool)
}

// SimDirectory drives a simulator with the shared company seeds; counts
// reads its API reads and writes, and fail injects the vendor's form of a
// fault (nil for benchmarks, which inject none).
func SimDirectory(sim CompanySim, counts func() (reads, writes int), fail func(Fault)) DirectorySim {
	return DirectorySim{
		SeedCompany: func(c simkit.Company) string { return strconv.Itoa(sim.SeedCompany(c)) },
		StoredTenantID: func(id string) (string, bool) {
			n, _ := strconv.Atoi(id)
			c, ok := sim.Company(n)
			return c.TenantID, ok
		},
		Fail:   fail,
		Reads:  func() int { r, _ := counts(); return r },
		Writes: func() int { _, w := counts(); return w },
	}
}
