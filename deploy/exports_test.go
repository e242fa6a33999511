// Package deploy_test checks the files under deploy against the real
// psasync: the alert rules and the Grafana dashboard may only name metrics
// that a psasync node registers, and promtool must accept the rules.
package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
)

// exportedMetrics builds a psasync node the way `psasync serve` does (on a
// simulated world and miniredis, with a PSA budget so its gauges are
// registered), puts one job in a queue so asynq's queue collector
// describes its metrics, and returns the names of every metric the node
// registers.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	ctx := context.Background()
	env, err := simenv.Start(ctx, simenv.Options{Users: 5, Unlimited: true})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	cfg := env.Config
	mr := miniredis.RunT(t)
	cfg.Redis.Addr = mr.Addr()
	cfg.PSA.Quota = &quota.Config{Requests: 10000, Period: time.Hour}
	log := logrus.New()
	log.SetLevel(logrus.ErrorLevel)
	n, err := app.NewNode(ctx, cfg, app.NodeOptions{Roles: app.RoleServe, Listen: "127.0.0.1:0", NoScheduler: true, World: env, Logger: log})
	require.NoError(t, err)
	t.Cleanup(n.Close)

	c := asynq.NewClient(n.RedisConnOpt())
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.Enqueue(asynq.NewTask("deploy:test", nil), asynq.Queue(n.Queues().Default))
	require.NoError(t, err)

	names := n.MetricNames()
	for _, want := range []string{"psasync_contact_failures_total", "psasync_subscription_health",
		"psasync_webhook_notifications_accepted_total", "asynq_queue_latency_seconds", "psasync_psa_quota_budget_requests"} {
		require.Contains(t, names, want, "the node's registry lists every part of psasync")
	}
	set := make(map[string]bool, len(names))
	for _, name := range names {
		set[name] = true
	}
	return set
}

// requireExported fails unless every metric that expr selects is in
// exported; where names the expression in the message.
func requireExported(t *testing.T, exported map[string]bool, where, expr string) {
	t.Helper()
	names := metricNames(expr)
	require.NotEmpty(t, names, "%s selects no metric: %s", where, expr)
	for _, name := range names {
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if trimmed, ok := strings.CutSuffix(name, suffix); ok && exported[trimmed] {
				base = trimmed // a histogram's series
			}
		}
		require.True(t, exported[base], "%s names %s, which psasync does not export: %s", where, name, expr)
	}
}

// promqlWords are PromQL's keywords and the grouping modifiers whose
// parenthesised lists hold label names, not metrics.
var promqlWords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

var grouping = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// aggregations may put their by/without clause before the parenthesis.
var aggregations = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "count": true, "group": true, "stddev": true,
	"stdvar": true, "topk": true, "bottomk": true, "quantile": true, "count_values": true,
}

// metricNames returns the metric names a PromQL expression selects: the
// identifiers that are not functions, keywords, label names (inside {},
// after a grouping modifier) or Grafana variables ($x), with strings,
// ranges ([5m]) and numbers skipped. It is a lexer, not a parser: it is
// enough for the expressions under deploy, and promtool checks their syntax.
func metricNames(expr string) []string {
	var names []string
	ident := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*`)
	skipTo := func(i int, close byte) int {
		for i < len(expr) && expr[i] != close {
			if expr[i] == '"' || expr[i] == '\'' || expr[i] == '`' {
				i = skipString(expr, i)
				continue
			}
			i++
		}
		return i + 1
	}
	for i := 0; i < len(expr); {
		ch := expr[i]
		switch {
		case ch == '"' || ch == '\'' || ch == '`':
			i = skipString(expr, i)
		case ch == '{':
			i = skipTo(i+1, '}')
		case ch == '[':
			i = skipTo(i+1, ']')
		case ch == '#':
			i = skipTo(i+1, '\n')
		case ch == '$':
			m := ident.FindString(expr[i+1:])
			i += 1 + len(m)
		case ch >= '0' && ch <= '9' || ch == '.':
			j := i
			for j < len(expr) && (isWordByte(expr[j]) || expr[j] == '.') {
				j++
			}
			i = j
		case isWordByte(ch):
			m := ident.FindString(expr[i:])
			i += len(m)
			rest := strings.TrimLeft(expr[i:], " \t\n")
			lower := strings.ToLower(m)
			switch {
			case grouping[lower] && strings.HasPrefix(rest, "("):
				i = skipTo(len(expr)-len(rest)+1, ')')
			case promqlWords[lower], aggregations[lower]:
			case strings.HasPrefix(rest, "("):
				// a function or an aggregation
			default:
				names = append(names, m)
			}
		default:
			i++
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func isWordByte(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// skipString returns the index after the string literal that starts at i.
func skipString(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		if s[j] == '\\' && q != '`' {
			j++
			continue
		}
		if s[j] == q {
			return j + 1
		}
	}
	return len(s)
}

func TestMetricNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`sum by (code) (increase(psasync_contact_failures_total[30m])) > 3`, []string{"psasync_contact_failures_total"}},
		{`max by (tenant) (a{health="unhealthy", x=~"{b}"}) == 1 and on (tenant) c offset 5m`, []string{"a", "c"}},
		{`histogram_quantile(0.95, sum by (le) (rate(h_bucket{route=~"$route"}[$__rate_interval])))`, []string{"h_bucket"}},
		{"time() - max(x or y) > 6 * 3600 / 1e3 # a comment naming z\n", []string{"x", "y"}},
		{`sum(a) / ignoring(instance) group_left(psa) b unless bool c`, []string{"a", "b", "c"}},
	} {
		require.Equal(t, tc.want, metricNames(tc.expr), tc.expr)
	}
}

// promtool finds promtool: a test without it skips on a laptop and fails
// in CI (CI=true), where .ci/run installs Debian's prometheus package.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool is missing, and CI=true: .ci/run installs Debian's prometheus package, which ships it (%v)", err)
		}
		t.Skipf("skipped: promtool is not installed (apt-get install prometheus); in CI (CI=true) this test fails instead (%v)", err)
	}
	return path
}

// runPromtool runs promtool with args in dir and returns its output;
// the test fails when promtool does.
func runPromtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}
