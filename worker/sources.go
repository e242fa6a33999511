package worker

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/psasync/psasync/psa"
)

// contactSource finds candidate contacts, either in a bulk index read at the
// start of a run or live in the PSA (per-user jobs, small incremental runs).
type contactSource interface {
	byID(ctx context.Context, company, id string) (psa.Contact, bool, error)
	byExternalID(ctx context.Context, company, userID string) ([]psa.Contact, error)
	byEmail(ctx context.Context, company, email string) ([]psa.Contact, error)
}

// bulkIndex holds every contact of the companies a run touches.
type bulkIndex struct {
	companies map[string]*companyContacts
}

type companyContacts struct {
	all     []psa.Contact
	byID    map[string]int
	byExt   map[string][]int
	byEmail map[string][]int
}

func newCompanyContacts(cs []psa.Contact) *companyContacts {
	cc := &companyContacts{all: cs, byID: make(map[string]int, len(cs)), byExt: map[string][]int{}, byEmail: make(map[string][]int, len(cs))}
	for i, c := range cs {
		cc.byID[c.ID] = i
		if c.ExternalID != "" {
			cc.byExt[strings.ToLower(c.ExternalID)] = append(cc.byExt[strings.ToLower(c.ExternalID)], i)
		}
		if c.Email != "" {
			k := strings.ToLower(strings.TrimSpace(c.Email))
			cc.byEmail[k] = append(cc.byEmail[k], i)
		}
	}
	return cc
}

func (b *bulkIndex) company(id string) (*companyContacts, error) {
	cc, ok := b.companies[id]
	if !ok {
		return nil, fmt.Errorf("company %s was not read by this run", id)
	}
	return cc, nil
}

// byID finds a contact in the companies the run read; a run reads every
// company its stored links point to, so a miss means the contact is gone.
func (b *bulkIndex) byID(_ context.Context, company, id string) (psa.Contact, bool, error) {
	cc, ok := b.companies[company]
	if !ok {
		return psa.Contact{}, false, nil
	}
	i, ok := cc.byID[id]
	if !ok {
		return psa.Contact{}, false, nil
	}
	return cc.all[i], true, nil
}

func (b *bulkIndex) pick(cc *companyContacts, idx []int) []psa.Contact {
	out := make([]psa.Contact, 0, len(idx))
	for _, i := range idx {
		out = append(out, cc.all[i])
	}
	return out
}

func (b *bulkIndex) byExternalID(_ context.Context, company, userID string) ([]psa.Contact, error) {
	cc, err := b.company(company)
	if err != nil {
		return nil, err
	}
	return b.pick(cc, cc.byExt[strings.ToLower(userID)]), nil
}

func (b *bulkIndex) byEmail(_ context.Context, company, email string) ([]psa.Contact, error) {
	cc, err := b.company(company)
	if err != nil {
		return nil, err
	}
	return b.pick(cc, cc.byEmail[strings.ToLower(strings.TrimSpace(email))]), nil
}

// liveSource asks the PSA: by id for a stored link, by the object id kept on
// the contact when the link was lost (so a user whose email changed is not
// created twice), then by email.
type liveSource struct {
	e *Engine
	w *waiter
}

func (l liveSource) byID(ctx context.Context, _ string, id string) (psa.Contact, bool, error) {
	c, err := doValue(ctx, l.w, func() (psa.Contact, error) { return l.e.psa.GetContact(ctx, id) })
	if errors.Is(err, psa.ErrNotFound) {
		return psa.Contact{}, false, nil
	}
	if err != nil {
		return psa.Contact{}, false, fmt.Errorf("get contact %s: %w", id, err)
	}
	return c, true, nil
}

func (l liveSource) byExternalID(ctx context.Context, company, userID string) ([]psa.Contact, error) {
	return l.find(ctx, "object id "+userID, func() ([]psa.Contact, error) {
		return l.e.psa.FindContactsByExternalID(ctx, company, userID)
	})
}

func (l liveSource) byEmail(ctx context.Context, company, email string) ([]psa.Contact, error) {
	return l.find(ctx, "email "+email, func() ([]psa.Contact, error) {
		return l.e.psa.FindContactsByEmail(ctx, company, email)
	})
}

// find runs one PSA lookup under the waiter; by names it in errors.
func (l liveSource) find(ctx context.Context, by string, lookup func() ([]psa.Contact, error)) ([]psa.Contact, error) {
	cs, err := doValue(ctx, l.w, lookup)
	if err != nil {
		return nil, fmt.Errorf("find contacts by %s: %w", by, err)
	}
	return cs, nil
}

// listContacts reads a company's contacts, starting over when a page is
// throttled (the iterator cannot resume mid-way).
func (e *Engine) listContacts(ctx context.Context, w *waiter, company string) ([]psa.Contact, error) {
	var out []psa.Contact
	err := w.do(ctx, func() error {
		out = out[:0]
		return collect(e.psa.ListContacts(ctx, company), &out)
	})
	if err != nil {
		return nil, fmt.Errorf("list contacts of company %s: %w", company, err)
	}
	return out, nil
}

func collect(seq iter.Seq2[psa.Contact, error], out *[]psa.Contact) error {
	for c, err := range seq {
		if err != nil {
			return err
		}
		*out = append(*out, c)
	}
	return nil
}
