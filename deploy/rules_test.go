package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// rulesFile is the alert rule file that deploy/README.md tells operators to
// load; its unit tests are rulesTestFile.
const (
	rulesDir      = "prometheus"
	rulesFile     = "psasync-rules.yaml"
	rulesTestFile = "psasync-rules_test.yaml"
)

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func TestAlertRulesPassPromtool(t *testing.T) {
	t.Parallel()
	out := runPromtool(t, rulesDir, "check", "rules", rulesFile)
	t.Logf("promtool check rules:\n%s", out)
	out = runPromtool(t, rulesDir, "test", "rules", rulesTestFile)
	t.Logf("promtool test rules:\n%s", out)
	require.Contains(t, out, "SUCCESS")
}

func TestAlertRulesNameExportedMetrics(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(rulesDir, rulesFile))
	require.NoError(t, err)
	var f ruleFile
	require.NoError(t, yaml.Unmarshal(raw, &f))
	exported := exportedMetrics(t)
	tests, err := os.ReadFile(filepath.Join(rulesDir, rulesTestFile))
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	anchors := readmeAnchors(string(readme))

	var alerts int
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert, "group %s: only alerting rules", g.Name)
			alerts++
			requireExported(t, exported, "alert "+r.Alert, r.Expr)
			require.NotEmpty(t, r.Labels["severity"], "%s: severity label", r.Alert)
			for _, a := range []string{"summary", "description", "runbook_url"} {
				require.NotEmpty(t, r.Annotations[a], "%s: annotation %s", r.Alert, a)
			}
			anchor, ok := strings.CutPrefix(r.Annotations["runbook_url"], "https://github.com/psasync/psasync/blob/main/README.md#")
			require.True(t, ok, "%s: runbook_url points at the README", r.Alert)
			require.True(t, anchors[anchor], "%s: README has no heading for #%s", r.Alert, anchor)
			require.Contains(t, string(tests), "alertname: "+r.Alert, "%s has unit tests", r.Alert)
		}
	}
	require.Equal(t, 7, alerts, "one rule per alert of issue 14")
}

// readmeAnchors are the GitHub anchors of the README's headings.
func readmeAnchors(md string) map[string]bool {
	heading := regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	out := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(md, -1) {
		a := drop.ReplaceAllString(strings.ToLower(m[1]), "")
		out[strings.ReplaceAll(a, " ", "-")] = true
	}
	return out
}
