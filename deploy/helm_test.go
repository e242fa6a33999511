package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/psasync/psasync/config"
)

// sentinelValues and clusterValues are the chart's Redis Sentinel and
// Cluster modes, as for Bitnami's redis (sentinel.enabled) and
// redis-cluster charts.
const (
	sentinelValues = `
secretFiles:
  redis.sentinel.sentinel_password: sentinel-password
redis:
  mode: sentinel
  sentinel:
    masterName: mymaster
    addrs: [redis-node-0.redis-headless:26379, redis-node-1.redis-headless:26379, redis-node-2.redis-headless:26379]
    db: 2
    replicaAckTimeout: 2s
`
	clusterValues = `
redis:
  mode: cluster
  cluster:
    addrs: [redis-cluster-0.redis-cluster-headless:6379, redis-cluster-1.redis-cluster-headless:6379]
    username: psasync
`
)

// chartDir is the Helm chart that deploy/README.md documents; its copy of
// the alert rules is chartRulesFile.
const (
	chartDir       = "helm/psasync"
	chartRulesFile = "files/psasync-rules.yaml"
	releaseName    = "psasync"
	releaseNS      = "psasync"
)

// fullValues turns on everything the defaults leave off (ServiceMonitor,
// PrometheusRule, env secrets, scheduler PDB) and off what they turn on
// (the HPA, the Ingress's TLS), so every template branch renders in one of
// the two cases.
const fullValues = `
image: {repository: ghcr.io/example/psasync, tag: "2.0.0", pullPolicy: Always}
secretName: msp-psasync
secretEnvFrom: true
secretFiles:
  graph.client_secret: graph
  psa.connectwise.private_key: null
  psa.halopsa.client_secret: halo
  server.monitoring.basic_auth_password: monitoring
redis: {mode: single, addr: "redis-master.data.svc:6380"}
config:
  psa:
    type: halopsa
    connectwise: null
    halopsa:
      instance_url: https://msp.halopsa.com
      tenant: msp
      client_id: 0d4a6b2c-1e3f-4a5b-8c7d-9e0f1a2b3c4d
  server:
    monitoring:
      basic_auth_user: ops
webhook: {replicas: 3, preStopSleepSeconds: 0}
worker:
  replicas: 5
  autoscaling: {enabled: false}
scheduler:
  replicas: 2
  pdb: {enabled: true, minAvailable: 1, maxUnavailable: null}
ingress: {tlsSecretName: "", paths: [/webhook/]}
metrics:
  serviceMonitor: {enabled: true, interval: 15s, labels: {release: kube-prometheus-stack}}
  prometheusRule: {enabled: true, labels: {release: kube-prometheus-stack}}
`

// loadChart loads the chart from disk as helm does.
func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	require.NoError(t, err)
	return c
}

// readValues parses a values document; "" is no override.
func readValues(t *testing.T, doc string) map[string]any {
	t.Helper()
	v, err := chartutil.ReadValues([]byte(doc))
	require.NoError(t, err)
	return v.AsMap()
}

// rendered is one object of the rendered chart: its template and its YAML.
type rendered struct {
	template string
	kind     string
	doc      []byte
}

// render renders the chart with vals as `helm template` does (schema
// validation included) and returns every non-empty object.
func render(t *testing.T, c *chart.Chart, vals map[string]any) []rendered {
	t.Helper()
	caps := chartutil.DefaultCapabilities.Copy()
	rv, err := chartutil.ToRenderValues(c, vals, chartutil.ReleaseOptions{
		Name: releaseName, Namespace: releaseNS, Revision: 1, IsInstall: true,
	}, caps)
	require.NoError(t, err)
	files, err := engine.Render(c, rv)
	require.NoError(t, err)
	var out []rendered
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for _, doc := range strings.Split(files[name], "\n---") {
			var head struct {
				Kind string `json:"kind"`
			}
			require.NoError(t, yaml.Unmarshal([]byte(doc), &head), name)
			if head.Kind == "" {
				require.Empty(t, strings.TrimSpace(stripComments(doc)), "%s: a document without kind", name)
				continue
			}
			out = append(out, rendered{template: name, kind: head.Kind, doc: []byte(doc)})
		}
	}
	return out
}

// stripComments drops YAML comment lines, to tell an empty document from
// a broken one.
func stripComments(doc string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// decodeStrict decodes one rendered object into a Kubernetes API type,
// refusing unknown fields.
func decodeStrict[T any](t *testing.T, r rendered) *T {
	t.Helper()
	v := new(T)
	require.NoError(t, yaml.UnmarshalStrict(r.doc, v), "%s %s", r.template, r.kind)
	return v
}

// TestHelmChartLint runs helm lint (warnings fail too) on the chart with
// the default values and with fullValues, and checks that it reports
// values the schema refuses.
func TestHelmChartLint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		values  string
		wantErr string
	}{
		{"defaults", "", ""},
		{"full", fullValues, ""},
		{"replicas three", `webhook: {replicas: three}`, "/webhook/replicas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			linter := lint.All(chartDir, readValues(t, tc.values), releaseNS, false)
			if tc.wantErr != "" {
				require.Equal(t, support.ErrorSev, linter.HighestSeverity)
				require.Contains(t, linter.Messages[len(linter.Messages)-1].Error(), tc.wantErr)
				return
			}
			for _, m := range linter.Messages {
				// INFO is the icon advice only; WARNING and ERROR fail.
				require.Less(t, m.Severity, support.WarningSev, m.Error())
			}
		})
	}
}

// renderedObjects is what one render is checked against.
type renderedObjects struct {
	deployments map[string]*appsv1.Deployment
	kinds       map[string]int
	configMap   *corev1.ConfigMap
	hpa         *autoscalingv2.HorizontalPodAutoscaler
	ingress     *networkingv1.Ingress
	rule        *unstructured.Unstructured
}

// decodeAll decodes every rendered object into its API type and fails on
// a kind the chart should not render.
func decodeAll(t *testing.T, objs []rendered) renderedObjects {
	t.Helper()
	out := renderedObjects{deployments: map[string]*appsv1.Deployment{}, kinds: map[string]int{}}
	for _, r := range objs {
		out.kinds[r.kind]++
		switch r.kind {
		case "Deployment":
			d := decodeStrict[appsv1.Deployment](t, r)
			out.deployments[d.Spec.Template.Labels["app.kubernetes.io/component"]] = d
			require.Equal(t, d.Spec.Selector.MatchLabels, subset(d.Spec.Template.Labels, d.Spec.Selector.MatchLabels), d.Name)
		case "Service":
			s := decodeStrict[corev1.Service](t, r)
			require.NotEmpty(t, s.Spec.Selector, s.Name)
		case "ConfigMap":
			out.configMap = decodeStrict[corev1.ConfigMap](t, r)
		case "HorizontalPodAutoscaler":
			out.hpa = decodeStrict[autoscalingv2.HorizontalPodAutoscaler](t, r)
		case "PodDisruptionBudget":
			p := decodeStrict[policyv1.PodDisruptionBudget](t, r)
			require.True(t, (p.Spec.MinAvailable == nil) != (p.Spec.MaxUnavailable == nil), "%s: exactly one of minAvailable, maxUnavailable", p.Name)
		case "Ingress":
			out.ingress = decodeStrict[networkingv1.Ingress](t, r)
		case "ServiceMonitor", "PrometheusRule":
			u := &unstructured.Unstructured{}
			require.NoError(t, yaml.Unmarshal(r.doc, &u.Object), r.template)
			require.Equal(t, "monitoring.coreos.com/v1", u.GetAPIVersion(), r.template)
			require.Equal(t, r.kind, u.GetKind())
			require.NotEmpty(t, u.GetName())
			if r.kind == "PrometheusRule" {
				out.rule = u
			}
		default:
			require.Failf(t, "unexpected kind", "%s in %s", r.kind, r.template)
		}
	}
	return out
}

// subset is the part of labels that sel names.
func subset(labels, sel map[string]string) map[string]string {
	out := map[string]string{}
	for k := range sel {
		if v, ok := labels[k]; ok {
			out[k] = v
		}
	}
	return out
}

// TestHelmChartRenders renders the chart for the default values and for
// fullValues, decodes every object into the Kubernetes API types
// (ServiceMonitor and PrometheusRule into unstructured), and checks what
// the chart promises: the roles' commands and probes, secrets only
// referenced, a config psasync accepts, the HPA, the Ingress and the
// PrometheusRule's groups equal to the rule file.
func TestHelmChartRenders(t *testing.T) {
	t.Parallel()
	c := loadChart(t)
	for _, tc := range []struct {
		name        string
		values      string
		secretName  string
		kinds       map[string]int
		workerScale *int32 // Deployment replicas; nil under the HPA
		secretFiles map[string]string
		envFrom     bool
		// check looks at the Redis part of the config psasync reads.
		redis func(t *testing.T, r config.Redis)
	}{
		{
			name: "defaults", secretName: "psasync-secrets",
			kinds: map[string]int{"ConfigMap": 1, "Deployment": 3, "Service": 1, "HorizontalPodAutoscaler": 1, "PodDisruptionBudget": 2, "Ingress": 1},
			secretFiles: map[string]string{
				"redis-password": "r3d!s#pw", "graph-client-secret": `g:&*"s`,
				"connectwise-private-key": "cw-key", "api-token": "0123456789abcdef0123",
			},
		},
		{
			name: "full", values: fullValues, secretName: "msp-psasync", envFrom: true, workerScale: ptr(int32(5)),
			kinds: map[string]int{"ConfigMap": 1, "Deployment": 3, "Service": 3, "PodDisruptionBudget": 3, "Ingress": 1, "ServiceMonitor": 1, "PrometheusRule": 1},
			secretFiles: map[string]string{
				"redis-password": "pw", "graph": "gs", "halo": "hs", "api-token": "0123456789abcdef0123", "monitoring": "mon",
			},
		},
		{
			name: "sentinel", values: sentinelValues, secretName: "psasync-secrets",
			kinds: map[string]int{"ConfigMap": 1, "Deployment": 3, "Service": 1, "HorizontalPodAutoscaler": 1, "PodDisruptionBudget": 2, "Ingress": 1},
			secretFiles: map[string]string{
				"redis-password": "data-pw", "sentinel-password": "sentinel-pw", "graph-client-secret": "gs",
				"connectwise-private-key": "cw-key", "api-token": "0123456789abcdef0123",
			},
			redis: func(t *testing.T, r config.Redis) {
				require.Empty(t, r.Addr, "no single node beside the sentinels")
				require.Equal(t, "mymaster", r.Sentinel.MasterName)
				require.Equal(t, []string{"redis-node-0.redis-headless:26379", "redis-node-1.redis-headless:26379", "redis-node-2.redis-headless:26379"}, r.Sentinel.Addrs)
				require.Equal(t, "data-pw", r.Sentinel.Password, "secretFiles' redis.password is the data nodes' password")
				require.Equal(t, "sentinel-pw", r.Sentinel.SentinelPassword)
				require.Equal(t, 2, r.Sentinel.DB)
				n, timeout := r.EffectiveReplicaAcks()
				require.Equal(t, 1, n)
				require.Equal(t, 2*time.Second, timeout)
			},
		},
		{
			name: "cluster", values: clusterValues, secretName: "psasync-secrets",
			kinds: map[string]int{"ConfigMap": 1, "Deployment": 3, "Service": 1, "HorizontalPodAutoscaler": 1, "PodDisruptionBudget": 2, "Ingress": 1},
			secretFiles: map[string]string{
				"redis-password": "cluster-pw", "graph-client-secret": "gs",
				"connectwise-private-key": "cw-key", "api-token": "0123456789abcdef0123",
			},
			redis: func(t *testing.T, r config.Redis) {
				require.Empty(t, r.Addr)
				require.Equal(t, []string{"redis-cluster-0.redis-cluster-headless:6379", "redis-cluster-1.redis-cluster-headless:6379"}, r.Cluster.Addrs)
				require.Equal(t, "cluster-pw", r.Cluster.Password)
				require.Equal(t, "psasync", r.Cluster.Username)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs := decodeAll(t, render(t, c, readValues(t, tc.values)))
			require.Equal(t, tc.kinds, objs.kinds)

			for component, d := range objs.deployments {
				pod := d.Spec.Template.Spec
				require.Len(t, pod.Containers, 1)
				ctr := pod.Containers[0]
				require.Equal(t, component, ctr.Args[0])
				probePort := "metrics"
				if component == "webhook" {
					probePort = "http"
					require.Contains(t, strings.Join(ctr.Args, " "), "--listen 0.0.0.0:8080")
				} else {
					require.Contains(t, strings.Join(ctr.Args, " "), "--metrics-listen :9102")
					require.Equal(t, int32(9102), ctr.Ports[0].ContainerPort)
				}
				require.Equal(t, probePort, ctr.Ports[0].Name)
				require.Equal(t, "/readyz", ctr.ReadinessProbe.HTTPGet.Path, component)
				require.Equal(t, probePort, ctr.ReadinessProbe.HTTPGet.Port.String(), component)
				require.Equal(t, "/healthz", ctr.LivenessProbe.HTTPGet.Path, component)
				require.Equal(t, probePort, ctr.LivenessProbe.HTTPGet.Port.String(), component)
				if component == "worker" {
					require.Equal(t, tc.workerScale, d.Spec.Replicas)
				}

				// Secrets: referenced (a volume and, if asked, envFrom), never a value.
				var secretVol *corev1.Volume
				for i := range pod.Volumes {
					if pod.Volumes[i].Secret != nil {
						secretVol = &pod.Volumes[i]
					}
				}
				require.NotNil(t, secretVol, component)
				require.Equal(t, tc.secretName, secretVol.Secret.SecretName)
				require.Equal(t, tc.envFrom, len(ctr.EnvFrom) == 1, component)
				for _, e := range ctr.Env {
					require.Empty(t, e.Value, "%s: env %s has a literal value", component, e.Name)
				}
				require.True(t, *ctr.SecurityContext.ReadOnlyRootFilesystem)
				require.True(t, *pod.SecurityContext.RunAsNonRoot)
				require.NotNil(t, ctr.Resources.Limits.Memory())
			}
			require.Len(t, objs.deployments, 3)

			// The config psasync reads: the rendered psasync.yaml with the
			// Secret's files in a temporary directory standing for the mount.
			dir := t.TempDir()
			for name, v := range tc.secretFiles {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600))
			}
			mount := objs.deployments["worker"].Spec.Template.Spec.Containers[0].VolumeMounts
			var mountPath string
			for _, m := range mount {
				if m.Name == "secrets" {
					mountPath = m.MountPath
				}
			}
			require.NotEmpty(t, mountPath)
			text := strings.ReplaceAll(objs.configMap.Data["psasync.yaml"], mountPath+"/", dir+"/")
			cfg, err := config.Parse([]byte(text), func(string) (string, bool) { return "", false })
			require.NoError(t, err, text)
			if tc.redis != nil {
				tc.redis(t, cfg.Redis)
			} else {
				require.NotEmpty(t, cfg.Redis.Addr)
				require.NotEmpty(t, cfg.Redis.Password)
			}
			require.NotEmpty(t, cfg.Graph.ClientSecret)
			require.Equal(t, "0123456789abcdef0123", cfg.Server.APIToken)

			require.NotNil(t, objs.ingress)
			for _, rule := range objs.ingress.Spec.Rules {
				for _, p := range rule.HTTP.Paths {
					require.Equal(t, releaseName+"-webhook", p.Backend.Service.Name)
				}
			}
			if objs.hpa != nil {
				require.Equal(t, objs.deployments["worker"].Name, objs.hpa.Spec.ScaleTargetRef.Name)
			}
			if objs.rule != nil {
				groups, ok, err := unstructured.NestedSlice(objs.rule.Object, "spec", "groups")
				require.NoError(t, err)
				require.True(t, ok)
				var file struct {
					Groups []any `json:"groups"`
				}
				b, err := os.ReadFile(filepath.Join(rulesDir, rulesFile))
				require.NoError(t, err)
				require.NoError(t, yaml.Unmarshal(b, &file))
				require.Equal(t, jsonOf(t, file.Groups), jsonOf(t, groups))
			}
		})
	}
}

// jsonOf is v as JSON, to compare decoded YAML regardless of number types.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// ptr is a pointer to v.
func ptr[T any](v T) *T { return &v }

// TestHelmChartRulesCopy keeps the chart's copy of the alert rules (Helm
// cannot read files outside the chart) equal to deploy/prometheus's byte
// for byte.
func TestHelmChartRulesCopy(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(filepath.Join(rulesDir, rulesFile))
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(chartDir, chartRulesFile))
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "cp deploy/prometheus/%s deploy/helm/psasync/%s", rulesFile, chartRulesFile)
}

// TestHelmValuesSchema checks that values.schema.json accepts the three
// Redis modes and refuses bad values.
func TestHelmValuesSchema(t *testing.T) {
	t.Parallel()
	c := loadChart(t)
	for _, tc := range []struct {
		name   string
		values string
		want   string // in the error; "" means accepted
	}{
		{"defaults", "", ""},
		{"full", fullValues, ""},
		{"replicas as a word", `webhook: {replicas: "three"}`, "replicas"},
		{"no replicas", `worker: {replicas: 0}`, "replicas"},
		{"no secret name", `secretName: ""`, "secretName"},
		{"inline secret value", `secretFiles: {graph.client_secret: "s3cr3t value"}`, "secretFiles"},
		{"unknown secret key", `secretFiles: {graph.client_id: id}`, "graph.client_id"},
		{"sentinel", sentinelValues, ""},
		{"cluster", clusterValues, ""},
		{"unknown mode", `redis: {mode: replicated}`, "mode"},
		{"sentinel without master", `redis: {mode: sentinel, sentinel: {addrs: ["s:26379"]}}`, "masterName"},
		{"sentinel without addrs", `redis: {mode: sentinel, sentinel: {masterName: m}}`, "addrs"},
		{"sentinel bad addr", `redis: {mode: sentinel, sentinel: {masterName: m, addrs: ["s"]}}`, "addrs"},
		{"sentinel config keys", `redis: {mode: sentinel, sentinel: {master_name: mymaster, addrs: ["s:26379"]}}`, "master_name"},
		{"cluster without addrs", `redis: {mode: cluster}`, "addrs"},
		{"sentinel password inline", `redis: {mode: sentinel, sentinel: {masterName: m, addrs: ["s:1"], password: pw}}`, "password"},
		{"redis addr in config", `config: {redis: {addr: "other:6379"}}`, "config"},
		{"bad pull policy", `image: {pullPolicy: Sometimes}`, "pullPolicy"},
		{"unknown top-level key", `replicas: 3`, "replicas"},
		{"hpa without bounds", `worker: {autoscaling: {enabled: true, minReplicas: null}}`, "minReplicas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vals, err := chartutil.CoalesceValues(c, readValues(t, tc.values))
			require.NoError(t, err)
			err = chartutil.ValidateAgainstSchema(c, vals)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestHelmChartMatchesManifests keeps the chart's defaults and the raw
// manifests of deploy/kubernetes consistent where they describe the same
// thing: each role's command, ports, probes, lifecycle, resources and
// security settings. They differ, on purpose, only in how secrets reach
// the pods (files from secretFiles here, envFrom there) and in the config
// mount.
func TestHelmChartMatchesManifests(t *testing.T) {
	t.Parallel()
	objs := decodeAll(t, render(t, loadChart(t), nil))
	for _, component := range []string{"webhook", "worker", "scheduler"} {
		t.Run(component, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("kubernetes", component+".yaml"))
			require.NoError(t, err)
			raw := decodeStrict[appsv1.Deployment](t, rendered{template: component, kind: "Deployment", doc: []byte(strings.Split(string(b), "\n---")[0])})
			chartDep := objs.deployments[component]
			require.NotNil(t, chartDep)
			want, got := raw.Spec.Template.Spec, chartDep.Spec.Template.Spec
			require.Equal(t, want.TerminationGracePeriodSeconds, got.TerminationGracePeriodSeconds)
			require.Equal(t, want.AutomountServiceAccountToken, got.AutomountServiceAccountToken)
			require.Equal(t, want.SecurityContext.RunAsUser, got.SecurityContext.RunAsUser)
			require.Equal(t, want.SecurityContext.SeccompProfile, got.SecurityContext.SeccompProfile)
			wc, gc := want.Containers[0], got.Containers[0]
			require.Equal(t, wc.Args, gc.Args)
			require.Equal(t, wc.Ports, gc.Ports)
			require.Equal(t, wc.StartupProbe, gc.StartupProbe)
			require.Equal(t, wc.ReadinessProbe, gc.ReadinessProbe)
			require.Equal(t, wc.LivenessProbe, gc.LivenessProbe)
			require.Equal(t, wc.Lifecycle, gc.Lifecycle)
			require.Equal(t, wc.Resources, gc.Resources)
			require.Equal(t, wc.SecurityContext, gc.SecurityContext)
			require.Equal(t, wc.Env, gc.Env)
			if component != "worker" {
				require.Equal(t, raw.Spec.Replicas, chartDep.Spec.Replicas)
			}
		})
	}
}
