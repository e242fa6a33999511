package connectwise

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/psasync/psasync/psa"
)

// Standard communication type names of a Manage site, used to find a
// contact's email, direct phone and mobile among its communication items.
const (
	commTypeEmail  = "Email"
	commTypeDirect = "Direct"
	commTypeMobile = "Mobile"
)

// refreshAfter is how old a reference cache must be before a name it does
// not know makes the client read the list again (someone may have just
// created the department in Manage).
const refreshAfter = time.Minute

// refTable caches one of Manage's small setup lists (contact types,
// departments, communication types) by lower-cased name.
type refTable struct {
	path, what string

	mu       sync.Mutex
	byName   map[string]int
	loadedAt time.Time
}

// namedRecord is the part of ContactType (description), ContactDepartment
// (name) and CommunicationType (description) the cache needs.
type namedRecord struct {
	ID          int    `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// resolve returns the id of the record called name, reading the list on
// first use and again when the name is unknown and the cache is older than
// refreshAfter. An unknown name is a psa.ErrInvalid error that names it.
func (c *Client) resolve(ctx context.Context, t *refTable, name string) (int, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.byName[key]; ok {
		return id, nil
	}
	if t.byName == nil || time.Since(t.loadedAt) > refreshAfter {
		op := "connectwise: list " + t.what + "s"
		u := c.endpoint(t.path, url.Values{"pageSize": {strconv.Itoa(MaxPageSize)}})
		recs, err := psa.Collect(listAll[namedRecord](ctx, c, op, u))
		if err != nil {
			return 0, err
		}
		m := make(map[string]int, len(recs))
		for _, r := range recs {
			label := r.Name
			if label == "" {
				label = r.Description
			}
			if k := strings.ToLower(strings.TrimSpace(label)); k != "" {
				if _, dup := m[k]; !dup {
					m[k] = r.ID
				}
			}
		}
		t.byName, t.loadedAt = m, time.Now()
		if id, ok := m[key]; ok {
			return id, nil
		}
	}
	return 0, &psa.Error{Op: "connectwise: resolve " + t.what, Kind: psa.ErrInvalid,
		Err: fmt.Errorf("%s %q does not exist in ConnectWise", t.what, name)}
}

// contactTypeID resolves a contact type given by name or by numeric id.
func (c *Client) contactTypeID(ctx context.Context, v string) (int, error) {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return n, nil
	}
	return c.resolve(ctx, c.types, v)
}
