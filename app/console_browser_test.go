package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/simkit/simenv"
)

// TestConsoleInChromium drives the console in headless Chromium through
// the DevTools protocol, keyboard only: it signs in, reads the overview,
// tabs to "Dry run now" on the tenant page and presses Enter, reads the
// run's page and applies its plan, opens the changes, links a conflict
// (the seeded duplicates), approves part of the held batch (the seeded
// orphans), follows a contact to its history, syncs a user with its trace,
// opens the quarantine and onboarding pages, then the queues UI with the
// same session. Each page's
// screenshot goes to $PSASYNC_SCREENSHOTS (default: the test's temp dir).
// Without Chromium it skips on a laptop and fails in CI (CI=true).
func TestConsoleInChromium(t *testing.T) {
	t.Parallel()
	chromium, ok := chromiumBinary()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium binary on PATH, and CI=true: .ci/run installs Debian's chromium")
		}
		t.Skip("skipped: no chromium binary on PATH (Debian: apt-get install chromium; or set PSASYNC_CHROMIUM); in CI (CI=true) this test fails instead")
	}
	nb := startConsoleNode(t, nil)
	base := nb.n.BaseURL()
	run, get, shot := startChromium(t, chromium)
	// tabTo presses Tab until the element with id has the focus: the
	// button is reachable by keyboard.
	tabTo := func(id string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			for range 60 {
				active, err := chromedp.Evaluate[string](`(document.activeElement && document.activeElement.id) || ""`)(ctx, tg)
				if err != nil {
					return err
				}
				if active == id {
					return nil
				}
				if _, err := chromedp.KeyEvent(kb.Tab)(ctx, tg); err != nil {
					return err
				}
			}
			return fmt.Errorf("Tab never reached #%s", id)
		})
	}
	enter := chromedp.KeyEvent(kb.Enter)

	run("sign in",
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="token"]`)),
		shot("signin"),
		// The token field has the focus (autofocus): type and press Enter.
		chromedp.KeyEvent(testAPIToken),
		enter,
		chromedp.WaitVisible(chromedp.ID("tenants")),
		shot("overview"),
	)
	overview := get(chromedp.Text(chromedp.CSS("main")))
	require.Contains(t, overview, "Simulated tenant 1", "the overview lists the tenant")
	require.Contains(t, overview, "healthy")

	run("dry run by keyboard",
		chromedp.Navigate(base+"/ui/tenants/"+nb.tenant),
		chromedp.WaitVisible(chromedp.ID("dry-run")),
		shot("tenant"),
		tabTo("dry-run"),
		enter,
		chromedp.WaitVisible(chromedp.Search(`//h1[starts-with(., "Run ")]`)),
	)
	require.Contains(t, get(chromedp.Location()), "/ui/runs/", "Enter on the focused button started a run and showed it")
	// The run page reloads itself (no JavaScript) until the report is there.
	run("the run's report", chromedp.WaitVisible(chromedp.Search(`//th[.="Duration"]`)), shot("run"))
	runText := get(chromedp.Text(chromedp.CSS("main")))
	require.Contains(t, runText, "dry run: nothing was written")
	require.NotContains(t, runText, testAPIToken)

	run("apply the plan by keyboard",
		tabTo("apply-plan"),
		enter,
		chromedp.WaitVisible(chromedp.Search(`//*[@role="status" and (contains(., "exactly what the preview planned") or contains(., "The data changed since"))]`)),
		shot("applied"),
	)
	require.Contains(t, get(chromedp.Location()), "?plan=")

	run("changes and the queues UI",
		chromedp.Navigate(base+"/ui/changes"),
		chromedp.WaitVisible(chromedp.Search(`//h1[.="Changes"]`)),
		shot("changes"),
		chromedp.Navigate(base+"/ui/conflicts"),
		chromedp.WaitVisible(chromedp.Search(`//button[.="Link to this contact"]`)),
		shot("conflicts"),
		// Resolve the first conflict: focus its first link button, press Enter.
		chromedp.Focus(chromedp.CSS(`form[action="/ui/conflicts/resolve"] button`)),
		enter,
		chromedp.WaitVisible(chromedp.Search(`//p[@role="status" and contains(., "is linked to contact")]`)),
	)

	// The applied run's guard held the seeded orphans: approve one of the
	// batch (tick it, then Enter on Approve), then follow a
	// held contact to its history.
	run("approve part of a held batch",
		chromedp.Navigate(base+"/ui/held"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/ui/held/decide"] input[type="checkbox"]`)),
		shot("held"),
		// An orphan's contact (its user is gone: no job touches it).
		chromedp.Click(chromedp.Search(`//tr[td[contains(., "no longer exists")]]//input[@type="checkbox"]`)),
		chromedp.Focus(chromedp.CSS(`form[action="/ui/held/decide"] button[value="approve"]`)),
		enter,
		chromedp.WaitVisible(chromedp.Search(`//p[@role="status" and contains(., "Approved:")]`)),
		shot("held-approved"),
	)
	require.Contains(t, get(chromedp.Text(chromedp.CSS("main"))), "Approved: 1 contacts deactivated", "the picked orphan was deactivated")
	run("the rest of the batch",
		chromedp.Navigate(base+"/ui/held"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/ui/held/decide"]`)),
	)
	require.Contains(t, get(chromedp.Text(chromedp.CSS("main"))), "approved", "the rest of the batch still waits, the approved one says so")
	run("one contact's history",
		chromedp.Click(chromedp.CSS(`form[action="/ui/held/decide"] a[href^="/ui/changes?contact="]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[.="Changes"]`)),
		shot("contact-history"),
	)
	require.Contains(t, get(chromedp.Location()), "/ui/changes?contact=")

	run("every other page",
		chromedp.Navigate(base+"/ui/quarantine"),
		chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "Quarantine")]`)),
		shot("quarantine"),
		chromedp.Navigate(base+"/ui/onboarding"),
		chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "Onboarding")]`)),
		shot("onboarding"),
		chromedp.Navigate(base+"/ui/sync-user"),
		chromedp.WaitVisible(chromedp.ID("sync-user-upn")),
		chromedp.Focus(chromedp.ID("sync-user-upn")),
		chromedp.KeyEvent(firstSyncable(t, nb.testBundle).UserPrincipalName),
		enter,
		chromedp.WaitVisible(chromedp.Search(`//*[contains(., "scope")]`)),
		shot("sync-user"),
		chromedp.Navigate(base+"/ui/jobs"),
		chromedp.WaitVisible(chromedp.CSS("main")),
		chromedp.Navigate(base+"/monitoring/"),
		chromedp.WaitVisible(chromedp.Search(`//a[contains(@href, "/monitoring/queues/")]`)),
		shot("jobs"),
	)
	require.Equal(t, "Asynq - Monitoring", get(chromedp.Title()), "the console session opens the queues UI")
}

// startChromium starts a headless Chromium for one test and returns three
// helpers: run runs steps with a bound (so a page that
// never shows fails the test), get reads a value, shot saves the page's
// screenshot to $PSASYNC_SCREENSHOTS (default: the test's temp dir).
func startChromium(t *testing.T, chromium string) (func(string, ...chromedp.Action[chromedp.Void]),
	func(chromedp.Action[string]) string, func(string) chromedp.Action[chromedp.Void]) {
	t.Helper()
	shots := os.Getenv("PSASYNC_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// The first call starts the browser and must not carry a timeout.
	require.NoError(t, chromedp.Do(browser, chromedp.Navigate("about:blank")))
	// run runs steps with a bound, so a page that never shows fails the test.
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		require.NoError(t, chromedp.Do(ctx, steps...), what)
	}
	get := func(a chromedp.Action[string]) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, a)
		require.NoError(t, err)
		return v
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, "console-"+name+".png"), png, 0o644)
		})
	}
	return run, get, shot
}

// TestConsoleOnboardsInChromium: in a simulated MSP, the operator discovers
// the customer tenants from the console and accepts one by keyboard; the
// accepted tenant joins the overview.
func TestConsoleOnboardsInChromium(t *testing.T) {
	t.Parallel()
	chromium, ok := chromiumBinary()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium binary on PATH, and CI=true: .ci/run installs Debian's chromium")
		}
		t.Skip("skipped: no chromium binary on PATH (Debian: apt-get install chromium; or set PSASYNC_CHROMIUM); in CI (CI=true) this test fails instead")
	}
	env, _, nb := startMSP(t, 10, &weekClock{now: time.Now().UTC()})
	base := nb.n.BaseURL()
	run, get, shot := startChromium(t, chromium)
	web := customerOf(t, env, simenv.KindWebsite, 0)
	run("sign in",
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="token"]`)),
		chromedp.KeyEvent(testAPIToken),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.ID("tenants")),
	)
	run("discover",
		chromedp.Navigate(base+"/ui/onboarding"),
		chromedp.WaitVisible(chromedp.ID("discover")),
		chromedp.Focus(chromedp.ID("discover")),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(., "Discovered 10 tenants")]`)),
		chromedp.Navigate(base+"/ui/onboarding"),
		chromedp.WaitVisible(chromedp.Search(`//section[.//p[contains(., "`+web.TenantID+`")]]//button[@value="accept"]`)),
		shot("onboarding-discovered"),
		chromedp.Focus(chromedp.Search(`//section[.//p[contains(., "`+web.TenantID+`")]]//button[@value="accept"]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(., "is accepted and mapped to company")]`)),
		shot("onboarding-accepted"),
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(chromedp.ID("tenants")),
	)
	require.Contains(t, get(chromedp.OuterHTML(chromedp.CSS("main"))), "/ui/tenants/"+web.TenantID, "the accepted tenant is on the overview")
}
