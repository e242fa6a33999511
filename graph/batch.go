package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
)

// Batching of single-user reads (WithBatch). Per-user jobs of one tenant
// that read their user at about the same time share one round trip: POST
// /$batch with up to 20 GET /users/{id} requests (Microsoft's "JSON
// batching"). Graph answers each request on its own, throttles each on its
// own (a 429 with its own Retry-After inside a 200 batch answer), and may
// answer them in any order, matched by id.
//
// The batch goes through the SDK's request adapter like every other call,
// so auth, the telemetry and compression middleware, the throttling
// transport (for a 429 on the batch itself) and the error mapping apply. It
// is built and decoded with encoding/json rather than msgraph-sdk-go-core's
// BatchRequestCollection, whose answers are decoded through kiota's generic
// parse tree (the cost pages.go avoids) and which leaves per-request
// throttling to the caller anyway.

// MaxBatchSize is the number of requests Graph accepts in one $batch.
const MaxBatchSize = 20

// batchItem is one request of a $batch body.
type batchItem struct {
	ID     string `json:"id"`
	Method string `json:"method"`
	URL    string `json:"url"`
}

// batchAnswer is one response of a $batch answer.
type batchAnswer struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// userCall is one GetUser waiting for its batch.
type userCall struct {
	ctx      context.Context
	id       string
	attempts int // throttled answers waited out so far
	done     chan userResult
}

// userResult is what a userCall gets back.
type userResult struct {
	user directory.User
	err  error
}

// batcher collects the GetUser calls of one client (one tenant) and sends
// them as batches: when 20 wait, or linger after the first one arrived.
type batcher struct {
	c      *Client
	linger time.Duration

	mu      sync.Mutex
	waiting []*userCall
	timer   *time.Timer
}

func newBatcher(c *Client, linger time.Duration) *batcher {
	return &batcher{c: c, linger: linger}
}

// getUser queues one read and waits for its answer or for ctx.
func (b *batcher) getUser(ctx context.Context, id string) (directory.User, error) {
	call := &userCall{ctx: ctx, id: id, done: make(chan userResult, 1)}
	b.add(call)
	select {
	case r := <-call.done:
		return r.user, r.err
	case <-ctx.Done():
		return directory.User{}, fmt.Errorf("graph: get user %s: %w", id, ctx.Err())
	}
}

// add queues a call, sending the batch at once when it is full.
func (b *batcher) add(call *userCall) {
	b.mu.Lock()
	b.waiting = append(b.waiting, call)
	if len(b.waiting) >= MaxBatchSize {
		full := b.takeLocked()
		b.mu.Unlock()
		go b.send(full)
		return
	}
	if b.timer == nil {
		b.timer = time.AfterFunc(b.linger, b.flush)
	}
	b.mu.Unlock()
}

// flush sends whatever waits when the linger is over.
func (b *batcher) flush() {
	b.mu.Lock()
	calls := b.takeLocked()
	b.mu.Unlock()
	if len(calls) > 0 {
		b.send(calls)
	}
}

// takeLocked empties the queue (b.mu held).
func (b *batcher) takeLocked() []*userCall {
	calls := b.waiting
	b.waiting = nil
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	return calls
}

// send posts one batch and answers every call in it. A call whose caller
// already left is dropped; one throttled for no longer than the client's
// throttle wait is queued again after its Retry-After, up to the client's
// throttle retries; anything else is answered with its own error.
func (b *batcher) send(calls []*userCall) {
	live := calls[:0]
	for _, call := range calls {
		if call.ctx.Err() == nil {
			live = append(live, call)
		}
	}
	if len(live) == 0 {
		return
	}
	// The batch serves several callers: it ends with the client's timeout,
	// not with any one caller's context.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(live[0].ctx), b.c.opts.batchTimeout)
	defer cancel()
	answers, err := b.c.postBatch(ctx, live)
	for i, call := range live {
		if err != nil {
			call.done <- userResult{err: err}
			continue
		}
		user, aerr := b.c.batchUser(call.id, answers[strconv.Itoa(i)])
		var throttled *directory.ThrottledError
		if errors.As(aerr, &throttled) && call.attempts < b.c.opts.throttleRetries && throttled.RetryAfter <= b.c.opts.maxThrottleWait {
			call.attempts++
			b.c.log.WithFields(logrus.Fields{"user": call.id, "retry_after": throttled.RetryAfter.String(), "attempt": call.attempts}).
				Info("graph: user read throttled inside a batch, waiting before retry")
			time.AfterFunc(throttled.RetryAfter, func() { b.add(call) })
			continue
		}
		call.done <- userResult{user: user, err: aerr}
	}
}

// postBatch sends one $batch of user reads and returns the answers by id.
func (c *Client) postBatch(ctx context.Context, calls []*userCall) (map[string]batchAnswer, error) {
	op := fmt.Sprintf("graph: batch of %d user reads", len(calls))
	sel := url.Values{"$select": {strings.Join(directory.SelectProperties, ",")}}.Encode()
	items := make([]batchItem, len(calls))
	for i, call := range calls {
		items[i] = batchItem{ID: strconv.Itoa(i), Method: http.MethodGet, URL: "/users/" + url.PathEscape(call.id) + "?" + sel}
	}
	body, err := json.Marshal(map[string]any{"requests": items})
	if err != nil {
		return nil, fmt.Errorf("%s: encode: %w", op, err)
	}
	info := abs.NewRequestInformation()
	info.Method = abs.POST
	info.UrlTemplate = "{+baseurl}/$batch"
	info.PathParameters = map[string]string{"baseurl": c.cfg.BaseURL}
	info.Headers.TryAdd("Accept", "application/json")
	info.SetStreamContentAndContentType(body, "application/json")
	var out struct {
		Responses []batchAnswer `json:"responses"`
	}
	if err := c.sendJSON(ctx, op, info, &out); err != nil {
		return nil, err
	}
	byID := make(map[string]batchAnswer, len(out.Responses))
	for _, a := range out.Responses {
		byID[a.ID] = a
	}
	return byID, nil
}

// batchUser reads one answer of a batch as GetUser would read its own
// response: the user, or an *Error of the same class a lone GET gets.
func (c *Client) batchUser(id string, a batchAnswer) (directory.User, error) {
	op := "graph: get user " + id
	if a.ID == "" {
		return directory.User{}, &Error{Op: op, Kind: directory.ErrUnavailable, Message: "batch answer has no response for this request"}
	}
	if a.Status >= 200 && a.Status < 300 {
		var w wireUser
		if err := json.Unmarshal(a.Body, &w); err != nil {
			return directory.User{}, &Error{Op: op, Kind: directory.ErrUnavailable, StatusCode: a.Status, Message: "undecodable user: " + err.Error()}
		}
		return w.user(), nil
	}
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(a.Body, &env)
	retryAfter := ""
	for k, v := range a.Headers {
		if strings.EqualFold(k, "Retry-After") {
			retryAfter = v
		}
	}
	return directory.User{}, &Error{
		Op: op, StatusCode: a.Status, Code: env.Error.Code, Message: env.Error.Message,
		Kind: kindOf(a.Status, env.Error.Code, retryAfter),
	}
}
