package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// dashboardFile is the Grafana dashboard deploy/README.md tells operators
// to import.
var dashboardFile = filepath.Join("grafana", "psasync.json")

// dashboard is the part of Grafana's dashboard JSON model the test checks.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *datasource     `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// query is one PromQL expression of the dashboard and where it sits.
type query struct{ where, expr string }

// loadDashboard reads the dashboard, checks that it is a Grafana dashboard
// psasync's users can import (uid, title, schema version, panels with
// unique ids, positions inside the 24-column grid, targets on the
// dashboard's Prometheus variable) and returns its PromQL queries.
func loadDashboard(t *testing.T) []query {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(raw, &d), "%s is JSON", dashboardFile)
	require.NotEmpty(t, d.UID)
	require.NotEmpty(t, d.Title)
	require.GreaterOrEqual(t, d.SchemaVersion, 36, "a schema version Grafana 10 and later import as is")
	require.NotEmpty(t, d.Panels)

	vars := map[string]string{}
	var queries []query
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		require.NoError(t, json.Unmarshal(v.Query, &q), "variable %s: query object", v.Name)
		inner, ok := strings.CutPrefix(q.Query, "label_values(")
		require.True(t, ok, "variable %s: a label_values query", v.Name)
		metric, _, ok := strings.Cut(inner, ",")
		require.True(t, ok, "variable %s: label_values(metric, label)", v.Name)
		queries = append(queries, query{"variable " + v.Name, strings.TrimSpace(metric)})
	}
	require.Equal(t, "datasource", vars["datasource"], "a Prometheus data source variable, so the dashboard imports anywhere")
	ids := map[int]string{}
	checkSource := func(where string, ds *datasource) {
		require.NotNil(t, ds, "%s: a data source", where)
		require.Equal(t, "prometheus", ds.Type, where)
		require.Equal(t, "${datasource}", ds.UID, where)
	}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
			require.NotZero(t, p.ID, where)
			require.NotContains(t, ids, p.ID, "%s: id already used by %s", where, ids[p.ID])
			ids[p.ID] = p.Title
			require.NotEmpty(t, p.Type, where)
			require.NotEmpty(t, p.Title, where)
			require.True(t, p.GridPos.W > 0 && p.GridPos.H > 0 && p.GridPos.X >= 0 && p.GridPos.X+p.GridPos.W <= 24, "%s: grid position", where)
			if p.Type == "row" {
				require.Empty(t, p.Targets, where)
				walk(p.Panels)
				continue
			}
			checkSource(where, p.Datasource)
			require.NotEmpty(t, p.Targets, "%s: queries", where)
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				require.NotEmpty(t, tg.RefID, where)
				require.False(t, refs[tg.RefID], "%s: refId %s twice", where, tg.RefID)
				refs[tg.RefID] = true
				checkSource(where, tg.Datasource)
				require.NotEmpty(t, tg.Expr, "%s %s: expr", where, tg.RefID)
				queries = append(queries, query{where + " " + tg.RefID, tg.Expr})
			}
		}
	}
	walk(d.Panels)
	return queries
}

func TestDashboardNamesExportedMetrics(t *testing.T) {
	t.Parallel()
	queries := loadDashboard(t)
	exported := exportedMetrics(t)
	for _, q := range queries {
		requireExported(t, exported, q.where, q.expr)
	}
}

// grafanaVariables are what Grafana substitutes before it sends a query,
// with values of the same syntax.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$tenant", ".*")

// TestDashboardQueriesParse has promtool parse every dashboard query, as
// recording rules of a throwaway rule file.
func TestDashboardQueriesParse(t *testing.T) {
	t.Parallel()
	queries := loadDashboard(t)
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for i, q := range queries {
		expr := grafanaVariables.Replace(q.expr)
		require.NotContains(t, expr, "$", "%s: a Grafana variable the test does not know", q.where)
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query_%d", i), Expr: expr})
	}
	doc := map[string]any{"groups": []map[string]any{{"name": "dashboard", "rules": rules}}}
	raw, err := yaml.Marshal(doc)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dashboard.yaml"), raw, 0o600))
	out := runPromtool(t, dir, "check", "rules", "dashboard.yaml")
	require.Contains(t, out, fmt.Sprintf("SUCCESS: %d rules found", len(rules)))
}
