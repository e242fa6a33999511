package psa

import (
	"context"
	"iter"
)

// Client is what the sync engine needs from a PSA. Implementations send only
// what is asked (UpdateContact writes only the listed fields), never sleep or
// retry on their own (a rate limit comes back as an *Error with RetryAfter),
// and return errors that unwrap to the sentinels in errors.go.
type Client interface {
	// ListContacts yields every contact of a company, active and inactive,
	// reading page by page; a run costs one read per page.
	ListContacts(ctx context.Context, companyID string) iter.Seq2[Contact, error]
	// FindContactsByEmail returns the company's contacts whose email equals
	// email, ignoring case; it is the guard that keeps a retried create
	// from making a duplicate.
	FindContactsByEmail(ctx context.Context, companyID, email string) ([]Contact, error)
	// FindContactsByExternalID returns the company's contacts whose stored
	// Microsoft 365 object id (ExternalID) equals objectID, and no other
	// company's. It is how a contact is found again when psasync's cached
	// link is lost and the user's email changed: without it that user would
	// get a second contact. A configuration that stores no object id
	// (FieldExternalID not in SupportedFields) returns no contact and no
	// error, since no contact can carry one; an empty objectID is ErrInvalid.
	FindContactsByExternalID(ctx context.Context, companyID, objectID string) ([]Contact, error)
	// GetContact reads one contact by PSA id; ErrNotFound when it is gone.
	GetContact(ctx context.Context, id string) (Contact, error)
	// CreateContact creates c (all canonical fields and ExternalID) and
	// returns it with its new ID.
	CreateContact(ctx context.Context, c Contact) (Contact, error)
	// UpdateContact writes only the listed fields of c to the contact c.ID
	// in company c.CompanyID and returns the contact as the PSA now has it.
	UpdateContact(ctx context.Context, c Contact, fields []Field) (Contact, error)
	// SupportedFields lists the canonical fields (and FieldExternalID) this
	// configuration stores and UpdateContact writes. The engine leaves the
	// others out of its diffs, so a field the PSA cannot hold never shows
	// as changed and never costs a write.
	SupportedFields() []Field
}

// ConvertSeq yields f of each value seq yields, and ends with seq's first
// error: how a vendor's ListContacts turns wire records into neutral
// contacts page by page. Stopping early stops seq.
func ConvertSeq[T, U any](seq iter.Seq2[T, error], f func(T) U) iter.Seq2[U, error] {
	return func(yield func(U, error) bool) {
		for v, err := range seq {
			if err != nil {
				var zero U
				yield(zero, err)
				return
			}
			if !yield(f(v), nil) {
				return
			}
		}
	}
}

// FailedSeq yields err alone: a listing refused before its first read.
func FailedSeq[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}

// Collect gathers seq into a slice, stopping at the first error: for the
// calls that answer a whole listing at once (ListCompanies).
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
