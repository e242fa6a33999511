package graphsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

// delivery is one notification collection to post.
type delivery struct {
	subID string
	url   string
	body  []byte
}

// subQueue holds one subscription's pending deliveries; one goroutine
// drains it, so a subscription's notifications go out in order unless
// out-of-order delivery is asked for.
type subQueue struct {
	items   []delivery
	running bool
}

// deliverer posts change notifications asynchronously with bounded retries.
type deliverer struct {
	s      *Sim
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	queues  map[string]*subQueue
	pending int
	idle    chan struct{} // closed while pending == 0
	closed  bool
	count   int // deliveries made, for duplicate delivery
}

func newDeliverer(s *Sim) *deliverer {
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	return &deliverer{s: s, ctx: ctx, cancel: cancel, queues: make(map[string]*subQueue), idle: idle}
}

// notify queues a change notification for every subscription that asked for
// the change.
func (d *deliverer) notify(c change) {
	s := d.s
	s.mu.Lock()
	t := s.tenants[c.tenant]
	var out []delivery
	if t != nil {
		s.purgeExpiredLocked(t)
		for _, sub := range t.subs {
			if !sub.matches(c.userID, c.changeType) {
				continue
			}
			out = append(out, delivery{subID: sub.id, url: sub.notificationURL, body: changeNotification(sub, c)})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b delivery) int {
		switch {
		case a.subID < b.subID:
			return -1
		case a.subID > b.subID:
			return 1
		}
		return 0
	})
	for _, dl := range out {
		d.enqueue(dl)
	}
}

// changeNotification renders Graph's change-notification collection for a
// user change.
func changeNotification(sub *subscription, c change) []byte {
	res := "Users/" + c.userID
	return notificationBody(sub, "2006-01-02T15:04:05.0000000+00:00", map[string]any{
		"changeType": c.changeType,
		"resource":   res,
		"resourceData": map[string]any{
			"@odata.type":    "#Microsoft.Graph.User",
			"@odata.id":      res,
			"id":             c.userID,
			"organizationId": c.tenant,
			"sequenceNumber": c.seq,
		},
		"tenantId": c.tenant,
	})
}

// notificationBody renders Graph's notification collection of one item:
// the subscription's id, its expiry in the layout Graph uses for that kind
// of notification, its clientState (null when it has none) and fields.
func notificationBody(sub *subscription, expiryLayout string, fields map[string]any) []byte {
	item := map[string]any{
		"subscriptionId":                 sub.id,
		"subscriptionExpirationDateTime": sub.expires.UTC().Format(expiryLayout),
		"clientState":                    nil,
	}
	if sub.clientState != "" {
		item["clientState"] = sub.clientState
	}
	maps.Copy(item, fields)
	body, _ := json.Marshal(map[string]any{"value": []map[string]any{item}})
	return body
}

func (d *deliverer) enqueue(dl delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	q := d.queues[dl.subID]
	if q == nil {
		q = &subQueue{}
		d.queues[dl.subID] = q
	}
	q.items = append(q.items, dl)
	if d.pending == 0 {
		d.idle = make(chan struct{})
	}
	d.pending++
	if !q.running {
		q.running = true
		d.wg.Add(1)
		go d.run(dl.subID, q)
	}
}

// run drains one subscription's queue.
func (d *deliverer) run(subID string, q *subQueue) {
	defer d.wg.Done()
	for {
		if w := d.s.cfg.outOfOrderWindow; w > 0 {
			t := time.NewTimer(w)
			select {
			case <-t.C:
			case <-d.ctx.Done():
				t.Stop()
			}
		}
		d.mu.Lock()
		batch := q.items
		q.items = nil
		if len(batch) == 0 {
			q.running = false
			delete(d.queues, subID)
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		if d.s.cfg.outOfOrderWindow > 0 {
			slices.Reverse(batch)
		}
		for _, dl := range batch {
			if d.ctx.Err() == nil {
				d.deliver(dl)
			}
			d.done()
		}
	}
}

// done marks one delivery finished.
func (d *deliverer) done() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending--
	if d.pending == 0 {
		close(d.idle)
	}
}

// deliver posts one notification with bounded retries, and a second time
// when duplicate delivery picks it.
func (d *deliverer) deliver(dl delivery) {
	if !d.post(d.ctx, dl.url, dl.body) {
		return
	}
	d.s.mu.Lock()
	for _, t := range d.s.tenants {
		if sub, ok := t.subs[dl.subID]; ok {
			sub.sent++
		}
	}
	d.s.mu.Unlock()
	d.mu.Lock()
	d.count++
	dup := d.s.cfg.duplicateEvery > 0 && d.count%d.s.cfg.duplicateEvery == 0
	d.mu.Unlock()
	if dup {
		d.post(d.ctx, dl.url, dl.body)
	}
}

// post sends a notification body, retrying non-2xx answers with doubling
// backoff; it reports whether the receiver accepted it.
func (d *deliverer) post(ctx context.Context, target string, body []byte) bool {
	backoff := d.s.cfg.deliveryBackoff
	for attempt := 1; ; attempt++ {
		ok := d.postOnce(ctx, target, body)
		d.s.mu.Lock()
		if ok {
			d.s.counts.delivered++
		} else {
			d.s.counts.failed++
		}
		d.s.mu.Unlock()
		if ok {
			return true
		}
		if attempt >= d.s.cfg.deliveryAttempts || ctx.Err() != nil {
			return false
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		}
		backoff *= 2
	}
}

func (d *deliverer) postOnce(ctx context.Context, target string, body []byte) bool {
	ctx, cancel := context.WithTimeout(ctx, d.s.cfg.deliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := d.s.cfg.notifyClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}

// wait blocks until nothing is pending or ctx ends.
func (d *deliverer) wait(ctx context.Context) error {
	d.mu.Lock()
	idle := d.idle
	d.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("graphsim: waiting for deliveries: %w", ctx.Err())
	}
}

// close stops accepting work, aborts retries and waits for posts in flight.
func (d *deliverer) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
}

// SendLifecycle posts a lifecycle notification (Graph sends only
// "reauthorizationRequired" for users) to a subscription's
// lifecycleNotificationUrl and waits for the receiver to accept it.
// "subscriptionRemoved" also removes the subscription, as Graph would.
func (s *Sim) SendLifecycle(ctx context.Context, subscriptionID, event string) error {
	s.mu.Lock()
	var sub *subscription
	var owner *tenant
	for _, t := range s.tenants {
		if found, ok := t.subs[subscriptionID]; ok {
			sub, owner = found, t
		}
	}
	if sub == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrSubscriptionNotFound, subscriptionID)
	}
	target := sub.lifecycleURL
	body := notificationBody(sub, "2006-01-02T15:04:05.0000000Z", map[string]any{
		"tenantId":       sub.tenant,
		"lifecycleEvent": event,
	})
	switch event {
	case "reauthorizationRequired":
		sub.needsReauth = true
	case "subscriptionRemoved":
		delete(owner.subs, sub.id)
	}
	s.mu.Unlock()
	if target == "" {
		return fmt.Errorf("%w: subscription %s has no lifecycleNotificationUrl", ErrInvalid, subscriptionID)
	}
	if !s.delivery.post(ctx, target, body) {
		return fmt.Errorf("graphsim: lifecycle notification to %s was not accepted", target)
	}
	return nil
}
