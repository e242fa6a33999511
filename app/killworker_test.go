package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker"
)

// helperWorkerEnv names the config file a re-executed test binary runs the
// worker role against (see TestHelperWorkerProcess).
const helperWorkerEnv = "PSASYNC_TEST_HELPER_WORKER_CONFIG"

// TestHelperWorkerProcess is not a test: it is the worker process that
// TestKilledWorkerJobIsFinishedByAnotherWithoutDuplicate starts by
// re-executing the test binary, so that it can SIGKILL a real process in
// the middle of a job. Without helperWorkerEnv it returns at once.
func TestHelperWorkerProcess(t *testing.T) {
	t.Parallel()
	path := os.Getenv(helperWorkerEnv)
	if path == "" {
		return
	}
	cfg, err := config.Load(path)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The parent holds our stdin open; if it dies without killing us, the
	// pipe closes and we stop instead of lingering as an orphan worker.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	log := logrus.New()
	log.Out = os.Stderr
	log.Level = logrus.DebugLevel
	n, err := app.NewNode(ctx, cfg, app.NodeOptions{Roles: app.RoleWorker, Concurrency: 2, NoScheduler: true, Logger: log})
	require.NoError(t, err)
	defer n.Close()
	require.NoError(t, n.Run(ctx))
}

// TestKilledWorkerJobIsFinishedByAnotherWithoutDuplicate runs a worker as a
// separate process, lets it create a brand-new user's contact in the PSA,
// and SIGKILLs it while it waits for the PSA's answer: the contact exists
// but the job was never acknowledged. A second worker must then finish the
// job (asynq recovers it once its lease expires) without creating a second
// contact, because the create path looks the contact up before creating.
//
// This takes about two minutes: asynq's recoverer takes a task whose
// worker died once its 30 s lease has been expired for 30 s more and only
// looks every minute, the recovered task then waits asynq's default retry
// delay (15-45 s), and the dead worker's per-user lock (2 min TTL, taken
// when the job started) must expire before the job can run again.
func TestKilledWorkerJobIsFinishedByAnotherWithoutDuplicate(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a worker process and waits for asynq to recover its job (about 2 minutes)")
	}
	t.Parallel()
	ctx := context.Background()
	env, err := simenv.Start(ctx, simenv.Options{PSA: config.PSAConnectWise, Users: 10, Unlimited: true})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	tenant := env.Tenants[0]

	proxy := newPSAProxy(t, env.PSA.Root())
	held := proxy.holdNextCreate()
	cfg := env.Config
	cfg.PSA.ConnectWise.SiteURL = proxy.URL
	cfg.Server.APIToken = testAPIToken
	testRedis(t, cfg) // TEST_REDIS_ADDR with queues and keys of the test's own, else miniredis
	queues := worker.PrefixedQueues(cfg.Redis.QueuePrefix)
	if os.Getenv("TEST_REDIS_ADDR") != "" {
		t.Cleanup(func() { cleanTestRedis(t, cfg.Redis.Addr, cfg.Redis.DB, cfg.Redis.KeyPrefix, queues) })
	}
	cfgPath := filepath.Join(t.TempDir(), "psasync.yaml")
	require.NoError(t, env.WriteConfig(cfgPath))

	// A brand-new user, so the job is a create.
	u := newGraphUser(t, env, fmt.Sprintf("kill.test.%d", time.Now().UnixNano()))

	child := startHelperWorker(t, cfgPath)
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis.Addr, DB: cfg.Redis.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	aopt := asynq.RedisClientOpt{Addr: cfg.Redis.Addr, DB: cfg.Redis.DB}
	ac := asynq.NewClient(aopt)
	t.Cleanup(func() { _ = ac.Close() })
	require.NoError(t, worker.NewQueue(ac, worker.NewStore(rdb, cfg.Redis.KeyPrefix), 0).WithQueues(queues).EnqueueUserSync(ctx, tenant, u.ID))

	select {
	case <-held.created:
	case <-time.After(90 * time.Second):
		t.Fatalf("the worker process never created the contact; its output:\n%s", child.output())
	}
	require.Len(t, contactsByEmail(env, u.Mail), 1, "the create reached the PSA before the kill")
	insp := asynq.NewInspector(aopt)
	t.Cleanup(func() { _ = insp.Close() })
	require.True(t, activeJobOf(t, insp, queues.Default, u.ID), "the job is running in the worker process")

	child.kill(t)
	held.release()
	killedAt := time.Now()
	require.True(t, activeJobOf(t, insp, queues.Default, u.ID), "the killed worker never acknowledged the job: asynq still has it as active")

	second := startNodeWith(t, env, cfg, nodeOpts{roles: app.RoleWorker})
	store := second.n.Engine().Store()
	var out worker.UserOutcome
	lastLog := time.Now()
	require.Eventually(t, func() bool {
		if time.Since(lastLog) > 15*time.Second {
			lastLog = time.Now()
			t.Logf("%s after the kill: %s", time.Since(killedAt).Round(time.Second), describeQueue(insp, queues.Default))
		}
		o, ok, err := store.UserOutcome(ctx, tenant, u.ID)
		if err != nil || !ok {
			return false
		}
		info, err := insp.GetQueueInfo(queues.Default)
		if err != nil || info.Pending+info.Scheduled+info.Active+info.Retry > 0 {
			return false
		}
		out = o
		return true
	}, 4*time.Minute, 500*time.Millisecond, "the second worker never finished the killed worker's job")
	t.Logf("job finished by the second worker %s after the kill (action %q, reason %q)", time.Since(killedAt).Round(time.Second), out.Action, out.Reason)

	require.NotEqual(t, "failed", out.Action, "outcome %+v", out)
	contacts := contactsByEmail(env, u.Mail)
	require.Len(t, contacts, 1, "exactly one contact for the user: no duplicate")
	require.Equal(t, u.ID, contacts[0].ExternalID)
	link, ok, err := store.GetLink(ctx, tenant, u.ID)
	require.NoError(t, err)
	require.True(t, ok, "the second worker linked the user")
	require.Equal(t, strconv.Itoa(contacts[0].ID), link.ContactID, "linked to the contact the killed worker created")
	require.Equal(t, 1, proxy.creates(), "one create in all: the second worker found the contact instead of creating one")
	info, err := insp.GetQueueInfo(queues.Default)
	require.NoError(t, err)
	require.Zero(t, info.Archived, "the job was not given up")
}

// cleanTestRedis removes what a test or benchmark left in a shared Redis:
// its own asynq queues with their tasks (completed ones included) and
// counters, and the keys under its prefix. It must run after the workers
// of those queues have stopped.
func cleanTestRedis(tb testing.TB, addr string, db int, prefix string, queues worker.Queues) {
	ctx := context.Background()
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: addr, DB: db})
	defer insp.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	defer rdb.Close()
	for _, q := range queues.All() {
		if _, err := insp.DeleteAllCompletedTasks(q); err != nil && !queueMissing(err) {
			tb.Logf("clean up completed tasks of %s: %v", q, err)
		}
		if err := insp.DeleteQueue(q, true); err != nil && !queueMissing(err) {
			tb.Logf("clean up queue %s: %v", q, err)
		}
		day := time.Now().UTC().Format(time.DateOnly)
		rdb.Unlink(ctx, "asynq:{"+q+"}:processed", "asynq:{"+q+"}:failed", "asynq:{"+q+"}:processed:"+day, "asynq:{"+q+"}:failed:"+day)
	}
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		if keys = append(keys, iter.Val()); len(keys) == 1000 {
			rdb.Unlink(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		rdb.Unlink(ctx, keys...)
	}
}

// queueMissing reports asynq's error for a queue that was never used.
func queueMissing(err error) bool {
	return errors.Is(err, asynq.ErrQueueNotFound) || strings.Contains(err.Error(), "does not exist")
}

// newGraphUser adds a syncable user to the simulated tenant, shaped like
// the generated ones, with a fresh address.
func newGraphUser(t *testing.T, env *simenv.Env, local string) graphsim.User {
	t.Helper()
	tenant := env.Tenants[0]
	var tmpl graphsim.User
	for _, u := range env.Graph.Users(tenant) {
		if syncable(u) && u.Mail != "" && u.GivenName != "" {
			tmpl = u
			break
		}
	}
	require.NotEmpty(t, tmpl.ID, "no syncable user to copy")
	verified, _ := graphsim.Domains(tenant)
	tmpl.ID = ""
	tmpl.UserPrincipalName = local + "@" + verified
	tmpl.Mail = tmpl.UserPrincipalName
	tmpl.MailNickname = local
	tmpl.GivenName, tmpl.Surname, tmpl.DisplayName = "Kim", "Killtest", "Kim Killtest"
	tmpl.EmployeeID = ""
	u, err := env.Graph.CreateUser(tenant, tmpl)
	require.NoError(t, err)
	return u
}

func contactsByEmail(env *simenv.Env, email string) []simenv.Contact {
	var out []simenv.Contact
	for _, c := range env.PSA.Contacts(simenv.DefaultCompanyID) {
		if strings.EqualFold(c.Email, email) {
			out = append(out, c)
		}
	}
	return out
}

// describeQueue lists a queue's unfinished tasks and their last errors,
// for failure messages.
func describeQueue(insp *asynq.Inspector, queue string) string {
	var b strings.Builder
	lists := []struct {
		state string
		list  func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	}{
		{"active", insp.ListActiveTasks}, {"pending", insp.ListPendingTasks}, {"scheduled", insp.ListScheduledTasks},
		{"retry", insp.ListRetryTasks}, {"archived", insp.ListArchivedTasks},
	}
	for _, l := range lists {
		tasks, err := l.list(queue)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v; ", l.state, err)
			continue
		}
		for _, ti := range tasks {
			fmt.Fprintf(&b, "%s %s retried=%d next=%s err=%q; ", l.state, ti.ID, ti.Retried, ti.NextProcessAt.Format(time.TimeOnly), ti.LastErr)
		}
	}
	if b.Len() == 0 {
		return "no unfinished task"
	}
	return b.String()
}

// activeJobOf reports whether a user:sync job of user is active in queue.
func activeJobOf(t *testing.T, insp *asynq.Inspector, queue, user string) bool {
	t.Helper()
	tasks, err := insp.ListActiveTasks(queue)
	require.NoError(t, err)
	for _, ti := range tasks {
		if ti.Type == worker.TypeUserSync && bytes.Contains(ti.Payload, []byte(user)) {
			return true
		}
	}
	return false
}

// helperWorker is a worker process started from the test binary.
type helperWorker struct {
	cmd   *exec.Cmd
	stdin io.Closer
	out   *app.LockedBuffer
	once  sync.Once
	err   error
}

// startHelperWorker re-executes the test binary as a worker process (see
// TestHelperWorkerProcess) and kills it when the test ends.
func startHelperWorker(t *testing.T, cfgPath string) *helperWorker {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWorkerProcess$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), helperWorkerEnv+"="+cfgPath)
	h := &helperWorker{cmd: cmd, out: &app.LockedBuffer{}}
	cmd.Stdout, cmd.Stderr = h.out, h.out
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	h.stdin = stdin
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		h.wait()
		if t.Failed() {
			t.Logf("worker process output:\n%s", h.output())
		}
	})
	return h
}

// kill sends SIGKILL: no shutdown, no requeue, the job stays active.
func (h *helperWorker) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, h.cmd.Process.Kill())
	err := h.wait()
	require.Error(t, err, "the worker process was killed")
	require.Contains(t, err.Error(), "killed")
}

func (h *helperWorker) wait() error {
	h.once.Do(func() {
		h.err = h.cmd.Wait()
		_ = h.stdin.Close()
	})
	return h.err
}

func (h *helperWorker) output() string { return h.out.String() }

// psaProxy sits between psasync and a PSA simulator. It forwards every
// request; it can hold back the answer to the next contact create (the PSA
// has written, the caller has not heard), and it timestamps every write so
// benchmarks can see when a change reached the PSA.
type psaProxy struct {
	*httptest.Server
	rp       *httputil.ReverseProxy
	mu       sync.Mutex
	hold     *heldCreate
	nCreates atomic.Int64
	// writes, when set, receives every successful write after the PSA
	// answered it (the send never blocks; a full channel drops).
	writes chan psaWrite
}

// psaWrite is one write the PSA answered.
type psaWrite struct {
	Method, Path string
	Body         []byte
	At           time.Time
}

// heldCreate is a create whose answer is held back.
type heldCreate struct {
	created     chan struct{} // closed once the PSA has answered the create
	releaseOnce sync.Once
	released    chan struct{}
}

// release lets the held answer go (to a caller that may be gone).
func (h *heldCreate) release() { h.releaseOnce.Do(func() { close(h.released) }) }

func newPSAProxy(t testing.TB, target string) *psaProxy {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := &psaProxy{rp: httputil.NewSingleHostReverseProxy(u)}
	p.Server = httptest.NewServer(p)
	t.Cleanup(func() {
		p.mu.Lock()
		if p.hold != nil {
			p.hold.release()
		}
		p.mu.Unlock()
		p.Close()
	})
	return p
}

// holdNextCreate makes the proxy hold the answer to the next contact create
// until release.
func (p *psaProxy) holdNextCreate() *heldCreate {
	h := &heldCreate{created: make(chan struct{}), released: make(chan struct{})}
	p.mu.Lock()
	p.hold = h
	p.mu.Unlock()
	return h
}

// creates is how many contact creates went through the proxy.
func (p *psaProxy) creates() int { return int(p.nCreates.Load()) }

func isContactCreate(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(strings.TrimRight(r.URL.Path, "/"), "/company/contacts")
}

func (p *psaProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	write := r.Method == http.MethodPost || r.Method == http.MethodPatch || r.Method == http.MethodPut
	var body []byte
	if write {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if isContactCreate(r) {
		p.nCreates.Add(1)
		p.mu.Lock()
		h := p.hold
		p.hold = nil
		p.mu.Unlock()
		if h != nil {
			rec := httptest.NewRecorder()
			p.rp.ServeHTTP(rec, r)
			close(h.created)
			select {
			case <-h.released:
			case <-r.Context().Done():
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
	}
	if !write || p.writes == nil {
		p.rp.ServeHTTP(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	p.rp.ServeHTTP(sw, r)
	if sw.status < 300 {
		select {
		case p.writes <- psaWrite{Method: r.Method, Path: r.URL.Path, Body: body, At: time.Now()}:
		default:
		}
	}
}

// statusWriter remembers the status the proxy answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
