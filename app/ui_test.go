package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/worker"
)

// chromiumBinary finds a Chromium to drive headless: $PSASYNC_CHROMIUM, or
// Debian's chromium package, or Chrome.
func chromiumBinary() (string, bool) {
	if p := os.Getenv("PSASYNC_CHROMIUM"); p != "" {
		return p, true
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// dumpDOM loads pageURL in headless Chromium, lets the page's scripts run
// (virtual time), and returns the DOM they built. Chromium and every
// process it started are killed when it returns.
func dumpDOM(t *testing.T, chromium, pageURL string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", pageURL)
	// Its own process group, so the renderer and helper processes go too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // stragglers; ESRCH when none
	}
	require.NoError(t, err, "chromium: %s", lastLines(errOut.String(), 20))
	return out.String()
}

func head(s string) string { return s[:min(len(s), 300)] }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestMonitoringUIInChromium opens the asynq web UI (asynqmon at
// /monitoring/) in headless Chromium, as an MSP's browser would: with the
// API token as the Basic-auth password it loads and its queues table lists
// the critical, default and low queues; without credentials it does not.
// Without Chromium it skips on a laptop and fails in CI (CI=true), where
// .ci/run installs Debian's chromium; scripts/check-ui.sh does the same
// check against `psasync serve --demo`.
func TestMonitoringUIInChromium(t *testing.T) {
	t.Parallel()
	chromium, ok := chromiumBinary()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium binary on PATH, and CI=true: .ci/run installs Debian's chromium")
		}
		t.Skip("skipped: no chromium binary on PATH (Debian: apt-get install chromium; or set PSASYNC_CHROMIUM); in CI (CI=true) this test fails instead")
	}
	o := nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise}, subscribe: true}
	if addr := os.Getenv("TEST_REDIS_ADDR"); addr != "" {
		// Registered before the node, so it runs after the node stopped.
		var rc config.Redis
		o.tune = func(c *config.Config) { rc = c.Redis }
		t.Cleanup(func() { cleanTestRedis(t, addr, rc.DB, rc.KeyPrefix, worker.PrefixedQueues(rc.QueuePrefix)) })
	}
	nb := startNode(t, o)
	// One job in each queue: subscribing ran a catch-up run (low); a
	// notification runs a user job (default); a lifecycle event runs a
	// subscription job (critical).
	rec, ok, err := nb.n.Subscriptions().ByTenant(context.Background(), nb.tenant)
	require.NoError(t, err)
	require.True(t, ok)
	u := firstSyncable(t, nb.testBundle)
	require.Equal(t, http.StatusAccepted, nb.postNotification(t, notification(rec.ID, rec.ClientState, nb.tenant, u.ID)))
	lifecycle := notification(rec.ID, rec.ClientState, nb.tenant, u.ID)
	item := lifecycle["value"].([]any)[0].(map[string]any)
	for _, k := range []string{"changeType", "resource", "resourceData"} {
		delete(item, k)
	}
	item["lifecycleEvent"] = "reauthorizationRequired"
	require.Equal(t, http.StatusAccepted, postJSON(t, nb.n.BaseURL()+"/webhook/graph/lifecycle", lifecycle))
	// The notification reaches the queue through the ingest stream's
	// dispatcher, so an idle queue alone does not say the job ran yet.
	require.Eventually(t, func() bool {
		info, err := nb.queueInfo()
		return err == nil && info.Processed > 0
	}, 30*time.Second, 20*time.Millisecond, "the user job ran")
	nb.waitIdle(t)

	base, err := url.Parse(nb.n.BaseURL() + "/monitoring/")
	require.NoError(t, err)
	authed := *base
	authed.User = url.UserPassword("msp-admin", testAPIToken)
	dom := dumpDOM(t, chromium, authed.String())
	// The DOM is large: assert without printing it.
	require.True(t, strings.Contains(dom, "<title>Asynq - Monitoring</title>"), "the UI loaded; DOM starts %q", head(dom))
	for _, q := range nb.n.Queues().All() {
		link := regexp.MustCompile(`<a [^>]*href="/monitoring/queues/[^"]+"[^>]*>` + regexp.QuoteMeta(q) + `</a>`)
		require.True(t, link.MatchString(dom), "the queues table lists %s", q)
	}

	anon := dumpDOM(t, chromium, base.String())
	require.False(t, strings.Contains(anon, "/monitoring/queues/"), "without credentials the UI shows no queue; DOM starts %q", head(anon))
}

// postJSON posts body as JSON and returns the status.
func postJSON(t *testing.T, target string, body any) int {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := http.Post(target, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}
