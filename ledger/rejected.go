package ledger

import (
	"context"
	"fmt"
)

// Rejected returns the contacts of a company whose deactivation an operator
// rejected, by contact id with the reason rejected: the guard keeps these
// active while their reason stands, whether it fires or not.
func (l *Ledger) Rejected(ctx context.Context, tenant, company string) (map[string]string, error) {
	var rec heldRecord
	if _, err := l.getJSON(ctx, l.keys.held(tenant, company), &rec); err != nil {
		return nil, fmt.Errorf("read held batch of company %s: %w", company, err)
	}
	out := map[string]string{}
	for id, d := range rec.Decisions {
		if d.Status == HeldRejected {
			out[id] = d.Reason
		}
	}
	return out, nil
}
