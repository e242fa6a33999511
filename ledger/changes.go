package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// What triggered a change (Trigger.Kind).
const (
	// TriggerNotification is a per-user job started by a Graph notification.
	TriggerNotification = "notification"
	// TriggerRun is a full or incremental run (scheduled, API or CLI).
	TriggerRun = "run"
	// TriggerOperator is an operator's action (a resolved conflict, an
	// approved deactivation).
	TriggerOperator = "operator"
)

// Results of a PSA write (Entry.Result).
const (
	// ResultWritten means the PSA accepted the write.
	ResultWritten = "written"
	// ResultFailed means the PSA refused it or could not be reached; the
	// entry carries the error code and the PSA's words.
	ResultFailed = "failed"
)

// FieldChange is one canonical contact field's old and new value.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// Trigger says what made psasync write.
type Trigger struct {
	// Kind is TriggerNotification, TriggerRun or TriggerOperator.
	Kind string `json:"kind"`
	// SubscriptionID is the Graph subscription of a notification.
	SubscriptionID string `json:"subscription_id,omitempty"`
	// TaskID is the queue task that wrote.
	TaskID string `json:"task_id,omitempty"`
	// RunID and Mode name the run of a TriggerRun.
	RunID string `json:"run_id,omitempty"`
	Mode  string `json:"mode,omitempty"`
	// Actor is the operator (token or user) of a TriggerOperator.
	Actor string `json:"actor,omitempty"`
}

// Entry is one PSA write (or failed attempt) in the change log.
type Entry struct {
	// ID is assigned on append (the stream id) and is the paging cursor.
	ID        string        `json:"id"`
	Time      time.Time     `json:"time"`
	Tenant    string        `json:"tenant"`
	CompanyID string        `json:"psa_company_id"`
	UserID    string        `json:"office365_id"`
	UPN       string        `json:"user_principal_name"`
	ContactID string        `json:"psa_contact_id"`
	Action    string        `json:"action"`
	Changes   []FieldChange `json:"changes"`
	Trigger   Trigger       `json:"trigger"`
	Result    string        `json:"result"`
	ErrorCode string        `json:"error_code,omitempty"`
	PSAError  string        `json:"psa_error,omitempty"`
	// Key is the idempotency key: a second append with the same key within
	// the retention window is dropped, so a retried job never doubles an
	// entry. Empty means no check.
	Key string `json:"-"`
}

// Append adds entries to the change log in one round trip, in order. An
// entry without Time gets the ledger's clock. Entries whose Key was appended
// before (within Retention) are dropped.
func (l *Ledger) Append(ctx context.Context, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	now := l.now()
	ks := []string{l.keys.changes(), l.keys.changesLast()}
	args := []any{l.opt.MaxEntries, now.Add(-l.opt.Retention).UnixMilli(),
		int64(l.opt.Retention / time.Second), len(entries)}
	for _, e := range entries {
		if e.Time.IsZero() {
			e.Time = now
		}
		e.Time = e.Time.UTC()
		e.ID = ""
		if e.Changes == nil {
			e.Changes = []FieldChange{}
		}
		body, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode change of user %s: %w", e.UserID, err)
		}
		hasKey := "0"
		if e.Key != "" {
			hasKey = "1"
			ks = append(ks, l.keys.idem(e.Key))
		}
		ix := indexKeys(l.keys, e)
		ks = append(ks, ix...)
		args = append(args, e.Time.UnixMilli(), body, hasKey, len(ix))
	}
	if err := appendScript.Run(ctx, l.rdb, ks, args...).Err(); err != nil {
		return fmt.Errorf("append %d changes: %w", len(entries), err)
	}
	return nil
}

// indexKeys are the index keys an entry is added to: its contact, its user
// object id, its UPN and its tenant (a tenant's page need not read the
// entries of every other tenant).
func indexKeys(k keys, e Entry) []string {
	var out []string
	if e.Tenant != "" {
		out = append(out, k.tenantIx(e.Tenant))
	}
	if e.ContactID != "" {
		out = append(out, k.contactIx(e.ContactID))
	}
	if e.UserID != "" {
		out = append(out, k.userIx(e.UserID))
	}
	if e.UPN != "" && !strings.EqualFold(e.UPN, e.UserID) {
		out = append(out, k.userIx(e.UPN))
	}
	return out
}

// Bounds of Query.Limit.
const (
	// DefaultLimit is the page size when Query.Limit is 0.
	DefaultLimit = 100
	// MaxLimit caps Query.Limit.
	MaxLimit = 1000
)

// Query selects change-log entries. Empty fields match everything; User is
// an object id or a UPN, case-insensitive; Trigger is a Trigger.Kind; Since
// and Until bound the entry time (both inclusive); Cursor is the Page.Next
// of the previous page.
type Query struct {
	Tenant, CompanyID, User, ContactID, Field, Action, Trigger string
	Since, Until                                               time.Time
	Cursor                                                     string
	Limit                                                      int
}

// Page is one page of entries, newest first; Next is the cursor of the next
// page, empty on the last.
type Page struct {
	Entries []Entry `json:"entries"`
	Next    string  `json:"next,omitempty"`
}

func (q Query) match(e Entry) bool {
	switch {
	case q.Tenant != "" && e.Tenant != q.Tenant,
		q.CompanyID != "" && e.CompanyID != q.CompanyID,
		q.ContactID != "" && e.ContactID != q.ContactID,
		q.User != "" && !strings.EqualFold(e.UserID, q.User) && !strings.EqualFold(e.UPN, q.User),
		q.Action != "" && e.Action != q.Action,
		q.Trigger != "" && e.Trigger.Kind != q.Trigger:
		return false
	}
	if q.Field == "" {
		return true
	}
	for _, c := range e.Changes {
		if c.Field == q.Field {
			return true
		}
	}
	return false
}

// Changes returns the entries that match q, newest first, one page at a
// time. A contact, user or tenant query reads that index (the most
// selective first); any other query scans the log from the newest entry in
// the range.
func (l *Ledger) Changes(ctx context.Context, q Query) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	q.Limit = min(q.Limit, MaxLimit)
	if floor := l.now().Add(-l.opt.Retention); q.Since.Before(floor) {
		q.Since = floor // approximate trimming may leave older entries; never show them
	}
	var cur *streamID
	if q.Cursor != "" {
		id, err := parseStreamID(q.Cursor)
		if err != nil {
			return Page{}, fmt.Errorf("cursor: %w", err)
		}
		cur = &id
	}
	want := q.Limit + 1 // one more tells whether there is a next page
	var (
		got []Entry
		err error
	)
	switch {
	case q.ContactID != "":
		got, err = l.scanIndex(ctx, l.keys.contactIx(q.ContactID), q, cur, want)
	case q.User != "":
		got, err = l.scanIndex(ctx, l.keys.userIx(q.User), q, cur, want)
	case q.Tenant != "":
		got, err = l.scanIndex(ctx, l.keys.tenantIx(q.Tenant), q, cur, want)
	default:
		got, err = l.scanStream(ctx, q, cur, want)
	}
	if err != nil {
		return Page{}, fmt.Errorf("read changes: %w", err)
	}
	p := Page{Entries: got}
	if len(got) > q.Limit {
		p.Entries = got[:q.Limit]
		p.Next = p.Entries[q.Limit-1].ID
	}
	if p.Entries == nil {
		p.Entries = []Entry{}
	}
	return p, nil
}

// scanStream reads the stream newest first in chunks until want entries
// matched or the range is exhausted.
func (l *Ledger) scanStream(ctx context.Context, q Query, cur *streamID, want int) ([]Entry, error) {
	hi := "+"
	if !q.Until.IsZero() {
		hi = strconv.FormatInt(q.Until.UnixMilli(), 10)
	}
	var skip string
	if cur != nil {
		hi, skip = cur.String(), cur.String()
	}
	lo := "-"
	if !q.Since.IsZero() {
		lo = strconv.FormatInt(q.Since.UnixMilli(), 10)
	}
	chunk := int64(max(want*4, 500))
	var out []Entry
	for {
		msgs, err := l.rdb.XRevRangeN(ctx, l.keys.changes(), hi, lo, chunk).Result()
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.ID == skip {
				continue
			}
			var full bool
			if out, full = q.collect(out, m, want); full {
				return out, nil
			}
		}
		if int64(len(msgs)) < chunk {
			return out, nil
		}
		hi, skip = msgs[len(msgs)-1].ID, msgs[len(msgs)-1].ID
	}
}

// scanIndex walks an index newest first in chunks, reads the entries it
// names (skipping those trimmed from the stream) and filters them.
func (l *Ledger) scanIndex(ctx context.Context, key string, q Query, cur *streamID, want int) ([]Entry, error) {
	hi := "+"
	if !q.Until.IsZero() {
		hi = "(" + fmt.Sprintf("%015d", q.Until.UnixMilli()+1)
	}
	if cur != nil {
		if c := "(" + lexMember(cur.ms, cur.seq); hi == "+" || c < hi {
			hi = c
		}
	}
	lo := "-"
	if !q.Since.IsZero() {
		lo = "[" + fmt.Sprintf("%015d", q.Since.UnixMilli())
	}
	chunk := int64(max(want, 50))
	var out []Entry
	for {
		members, err := l.rdb.ZRevRangeByLex(ctx, key, &redis.ZRangeBy{Max: hi, Min: lo, Count: chunk}).Result()
		if err != nil {
			return nil, err
		}
		if len(members) == 0 {
			return out, nil
		}
		cmds, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, m := range members {
				id, err := parseStreamID(m)
				if err != nil {
					return fmt.Errorf("index %s: %w", key, err)
				}
				p.XRange(ctx, l.keys.changes(), id.String(), id.String())
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, c := range cmds {
			msgs, err := c.(*redis.XMessageSliceCmd).Result()
			if err != nil {
				return nil, err
			}
			if len(msgs) == 0 {
				continue // trimmed from the log; the index lags
			}
			var full bool
			if out, full = q.collect(out, msgs[0], want); full {
				return out, nil
			}
		}
		if int64(len(members)) < chunk {
			return out, nil
		}
		hi = "(" + members[len(members)-1]
	}
}

// collect appends m's entry to out when it decodes and q matches it; full
// reports that out now holds the want entries a page reads.
func (q Query) collect(out []Entry, m redis.XMessage, want int) (_ []Entry, full bool) {
	e, ok := decodeEntry(m)
	if !ok || !q.match(e) {
		return out, false
	}
	out = append(out, e)
	return out, len(out) == want
}

func decodeEntry(m redis.XMessage) (Entry, bool) {
	s, _ := m.Values["e"].(string)
	var e Entry
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return Entry{}, false // not ours; never fails a query
	}
	e.ID = m.ID
	return e, true
}

// streamID is a parsed stream id "ms-seq".
type streamID struct{ ms, seq uint64 }

func (s streamID) String() string { return fmt.Sprintf("%d-%d", s.ms, s.seq) }

func parseStreamID(s string) (streamID, error) {
	a, b, ok := strings.Cut(s, "-")
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return streamID{}, fmt.Errorf("%q is not an entry id (want <ms>-<seq>)", s)
	}
	return streamID{ms, seq}, nil
}
