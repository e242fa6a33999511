// Package config loads psasync's one YAML file, expands secrets from the
// environment, and reports every problem at once, each naming its key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/psasync/psasync/mapping"
)

// Config is the whole psasync configuration.
type Config struct {
	Log     Log            `yaml:"log"`
	Redis   Redis          `yaml:"redis"`
	Graph   GraphApp       `yaml:"graph"`
	PSA     PSA            `yaml:"psa"`
	Sync    Sync           `yaml:"sync"`
	Mapping mapping.Config `yaml:"mapping"`
	Server  Server         `yaml:"server"`
	Worker  Worker         `yaml:"worker"`
	// Ledger tunes the change log and run history.
	Ledger Ledger `yaml:"ledger"`
	// Schedule is the default schedule; a tenant may override it.
	Schedule Schedule `yaml:"schedule"`
	Tenants  []Tenant `yaml:"tenants"`
	// Partner is the MSP's partner tenant for onboarding (optional).
	Partner Partner `yaml:"partner"`
}

// Server is the HTTP side: webhook, API, health, metrics and the UI.
type Server struct {
	// Listen is HOST:PORT (default 127.0.0.1:8080; 0.0.0.0:8080 in containers).
	Listen string `yaml:"listen"`
	// PublicURL is the HTTPS base URL Graph reaches the webhook at, e.g.
	// https://psasync.example.com; subscriptions use PublicURL/webhook/graph.
	PublicURL string `yaml:"public_url"`
	// APIToken protects /api and /monitoring (Authorization: Bearer ...).
	APIToken string `yaml:"api_token"`
	// APITokenFile holds APIToken instead (see SecretKeys).
	APITokenFile string `yaml:"api_token_file"`
	// ReadToken is a read-only token: it reads the API (GET), the console
	// and the queues UI, and changes nothing.
	ReadToken string `yaml:"read_token"`
	// ReadTokenFile holds ReadToken instead (see SecretKeys).
	ReadTokenFile string `yaml:"read_token_file"`
	// Monitoring configures the asynq UI at /monitoring/.
	Monitoring Monitoring `yaml:"monitoring"`
	// MaxBodyBytes bounds a notification POST (default 1 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// TrustedProxies are the addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For and X-Forwarded-Proto are believed (the logged client
	// address, the console's sign-in throttling and Secure cookies); empty
	// trusts none.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Monitoring configures the asynq web UI.
type Monitoring struct {
	Enabled *bool `yaml:"enabled"` // default true
	// ReadOnly hides the UI's buttons that delete, retry or archive tasks.
	ReadOnly bool `yaml:"read_only"`
	// BasicAuthUser and BasicAuthPassword let a browser log in; the API
	// token works too.
	BasicAuthUser     string `yaml:"basic_auth_user"`
	BasicAuthPassword string `yaml:"basic_auth_password"`
	// BasicAuthPasswordFile holds BasicAuthPassword instead (see SecretKeys).
	BasicAuthPasswordFile string `yaml:"basic_auth_password_file"`
}

// Worker tunes the job workers.
type Worker struct {
	// Concurrency is how many jobs one worker process runs at once (default
	// 20: the size of a Graph $batch, so that a burst's user reads fill it).
	Concurrency int `yaml:"concurrency"`
	// MaxTenantRuns is how many runs (a tenant's full or incremental sync)
	// one worker process runs at once, besides Concurrency's jobs (default
	// 2): the nightly reconciles of many tenants wait in the queue, and the
	// process's memory follows this bound, not the number of tenants.
	MaxTenantRuns int `yaml:"max_tenant_runs"`
	// GraphBatchLinger is how long a per-user job's Graph read waits for
	// other reads of the same tenant to share one $batch of up to 20
	// (default 150ms); negative sends every read on its own.
	GraphBatchLinger time.Duration `yaml:"graph_batch_linger"`
	// CoalesceWindow is how long notifications for one user collapse into
	// one trailing job (default 1s).
	CoalesceWindow time.Duration `yaml:"coalesce_window"`
	// MetricsListen is the HOST:PORT where a worker or scheduler process
	// (one without the webhook role, which serves them itself) serves
	// /metrics, /healthz and /readyz; empty: none.
	MetricsListen string `yaml:"metrics_listen"`
}

// DefaultMaxTenantRuns is worker.max_tenant_runs when unset.
const DefaultMaxTenantRuns = 2

// TenantRuns is the effective worker.max_tenant_runs.
func (w Worker) TenantRuns() int {
	if w.MaxTenantRuns <= 0 {
		return DefaultMaxTenantRuns
	}
	return w.MaxTenantRuns
}

// DefaultGraphBatchLinger is worker.graph_batch_linger when unset.
const DefaultGraphBatchLinger = 150 * time.Millisecond

// BatchLinger is the effective linger of Graph user-read batches; 0 means
// batching is off.
func (w Worker) BatchLinger() time.Duration {
	return offOrDefault(w.GraphBatchLinger, DefaultGraphBatchLinger)
}

// offOrDefault is the rule of a duration key whose 0 keeps the default
// def and whose negative value turns the feature off (0).
func offOrDefault(d, def time.Duration) time.Duration {
	switch {
	case d < 0:
		return 0
	case d == 0:
		return def
	}
	return d
}

// Schedule is when runs happen without a notification.
type Schedule struct {
	// IncrementalEvery is the delta sync period (default 15m; 0 keeps the
	// default, negative turns it off).
	IncrementalEvery time.Duration `yaml:"incremental_every"`
	// ReconcileAt is the local time of the nightly full reconcile, "HH:MM"
	// (default 02:00; "off" turns it off).
	ReconcileAt string `yaml:"reconcile_at"`
	// ReconcileSpread is the window the nightly reconciles of all tenants
	// start in, from reconcile_at on (default 3h: 02:00-05:00 in each
	// tenant's zone); each tenant's start is fixed by a hash of its id, so
	// the tenants of an MSP do not start at once. Negative: no spread.
	ReconcileSpread time.Duration `yaml:"reconcile_spread"`
	// TimeZone is an IANA zone name (default UTC).
	TimeZone string `yaml:"time_zone"`
	// RenewEvery is how often subscriptions are checked for renewal
	// (default 1h).
	RenewEvery time.Duration `yaml:"renew_every"`
}

// Log chooses the log format; JSON is for production.
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Format string `yaml:"format"` // json (default) or text
}

// GraphApp is the (multi-tenant) Entra app registration psasync signs in
// with; each tenant may override it.
type GraphApp struct {
	ClientID            string `yaml:"client_id"`
	ClientSecret        string `yaml:"client_secret"`
	CertificatePath     string `yaml:"certificate_path"`
	CertificatePassword string `yaml:"certificate_password"`
	// ClientSecretFile and CertificatePasswordFile hold ClientSecret and
	// CertificatePassword instead (see SecretKeys).
	ClientSecretFile        string `yaml:"client_secret_file"`
	CertificatePasswordFile string `yaml:"certificate_password_file"`
	// AuthorityHost and BaseURL are only changed for national clouds and
	// the simulator.
	AuthorityHost string `yaml:"authority_host"`
	BaseURL       string `yaml:"base_url"`
	// CACertPath trusts an extra CA (the simulator's) for Graph and login.
	CACertPath string `yaml:"ca_cert_path"`
}

// Sync tunes runs; zero values take the engine's defaults.
type Sync struct {
	Concurrency          int           `yaml:"concurrency"`
	DeactivationGuard    float64       `yaml:"deactivation_guard"`
	DeactivationGuardMin int           `yaml:"deactivation_guard_min"`
	MaxWait              time.Duration `yaml:"max_wait"`
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Load reads, expands and validates a config file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse reads a config from YAML. ${NAME} anywhere in the file is replaced
// by the environment variable NAME (so secrets stay out of the file); a
// missing variable is an error. Unknown keys are errors too.
//
// The steps, in order: ${NAME} expansion of the YAML text (so a path in
// x_file may use it; a secret file's content is never expanded), decoding,
// reading every x_file into x (see SecretKeys), the PSASYNC_* environment
// overrides (which win over x and x_file alike), validation. Every problem
// of the last three steps is reported at once, each naming its key.
func Parse(b []byte, lookup func(string) (string, bool)) (*Config, error) {
	var errs []error
	lines := bytes.Split(b, []byte("\n"))
	for i, line := range lines {
		if bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			continue // a comment may mention ${NAME} without it being set
		}
		lines[i] = envRef.ReplaceAllFunc(line, func(m []byte) []byte {
			name := string(envRef.FindSubmatch(m)[1])
			v, ok := lookup(name)
			if !ok {
				errs = append(errs, fmt.Errorf("line %d: environment variable %s is not set", i+1, name))
				return nil
			}
			return []byte(v)
		})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c := Config{Mapping: mapping.DefaultConfig()}
	dec := yaml.NewDecoder(bytes.NewReader(bytes.Join(lines, []byte("\n"))))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	errs = c.readSecretFiles(readLimited)
	c.applyEnv(lookup)
	c.Redis.KeyPrefix = c.Redis.Prefix()
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}

// applyEnv lets the usual secrets come from fixed variable names too, for
// container platforms that inject them that way.
func (c *Config) applyEnv(lookup func(string) (string, bool)) {
	set := func(dst *string, name string) {
		if v, ok := lookup(name); ok && v != "" {
			*dst = v
		}
	}
	set(&c.Redis.Addr, "PSASYNC_REDIS_ADDR")
	// The Redis password of the mode in use: the data nodes' password.
	switch {
	case c.Redis.Sentinel.set():
		set(&c.Redis.Sentinel.Password, "PSASYNC_REDIS_PASSWORD")
	case c.Redis.Cluster.set():
		set(&c.Redis.Cluster.Password, "PSASYNC_REDIS_PASSWORD")
	default:
		set(&c.Redis.Password, "PSASYNC_REDIS_PASSWORD")
	}
	set(&c.Server.APIToken, "PSASYNC_API_TOKEN")
	set(&c.Server.ReadToken, "PSASYNC_READ_TOKEN")
	set(&c.Server.Listen, "PSASYNC_LISTEN")
	set(&c.Server.PublicURL, "PSASYNC_PUBLIC_URL")
	set(&c.Graph.ClientSecret, "PSASYNC_GRAPH_CLIENT_SECRET")
	set(&c.PSA.ConnectWise.PrivateKey, "PSASYNC_CONNECTWISE_PRIVATE_KEY")
	set(&c.PSA.Autotask.Secret, "PSASYNC_AUTOTASK_SECRET")
	set(&c.PSA.HaloPSA.ClientSecret, "PSASYNC_HALOPSA_CLIENT_SECRET")
}

// Validate reports every problem, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	switch c.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		add("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "", "json", "text":
	default:
		add("log.format", "%q is not json or text", c.Log.Format)
	}
	errs = append(errs, c.Redis.validate()...)
	switch c.PSA.Type {
	case PSAConnectWise:
		if err := c.PSA.ConnectWise.Validate(); err != nil {
			errs = append(errs, prefixed("psa.connectwise", err))
		}
	case PSAAutotask:
		if err := c.PSA.Autotask.Validate(); err != nil {
			errs = append(errs, prefixed("psa.autotask", err))
		}
	case PSAHaloPSA:
		if err := c.PSA.HaloPSA.Validate(); err != nil {
			errs = append(errs, prefixed("psa.halopsa", err))
		}
	case "":
		add("psa.type", "required (connectwise, autotask or halopsa)")
	default:
		add("psa.type", "%q is not connectwise, autotask or halopsa", c.PSA.Type)
	}
	if c.PSA.Quota != nil {
		if err := c.EffectiveQuota().Validate(); err != nil {
			errs = append(errs, prefixed("psa.quota", err))
		}
	}
	if c.Sync.Concurrency < 0 || c.Sync.Concurrency > 64 {
		add("sync.concurrency", "%d is not between 1 and 64", c.Sync.Concurrency)
	}
	if c.Sync.DeactivationGuard < 0 || c.Sync.DeactivationGuard > 1 {
		add("sync.deactivation_guard", "%g is not a share between 0 and 1", c.Sync.DeactivationGuard)
	}
	if c.Sync.DeactivationGuardMin < 0 {
		add("sync.deactivation_guard_min", "must not be negative")
	}
	if c.Server.PublicURL != "" {
		if u, err := url.Parse(c.Server.PublicURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			add("server.public_url", "%q is not an absolute URL (Graph needs https://host)", c.Server.PublicURL)
		}
	}
	if c.Server.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
			add("server.listen", "%q is not HOST:PORT", c.Server.Listen)
		}
	}
	for i, p := range c.Server.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			add(fmt.Sprintf("server.trusted_proxies[%d]", i), "%q is not an IP address or CIDR", p)
		}
	}
	if c.Server.ReadToken != "" && c.Server.ReadToken == c.Server.APIToken {
		add("server.read_token", "must differ from server.api_token (the read-only token would act as admin)")
	}
	if c.Server.MaxBodyBytes < 0 {
		add("server.max_body_bytes", "must not be negative")
	}
	if (c.Server.Monitoring.BasicAuthUser == "") != (c.Server.Monitoring.BasicAuthPassword == "") {
		add("server.monitoring", "basic_auth_user and basic_auth_password go together")
	}
	if c.Worker.Concurrency < 0 || c.Worker.Concurrency > 1000 {
		add("worker.concurrency", "%d is not between 1 and 1000", c.Worker.Concurrency)
	}
	if c.Worker.MaxTenantRuns < 0 || c.Worker.MaxTenantRuns > 100 {
		add("worker.max_tenant_runs", "%d is not between 1 and 100", c.Worker.MaxTenantRuns)
	}
	if c.Worker.GraphBatchLinger > time.Second {
		add("worker.graph_batch_linger", "%s is longer than 1s (negative turns batching off)", c.Worker.GraphBatchLinger)
	}
	if c.Worker.CoalesceWindow < 0 || c.Worker.CoalesceWindow > time.Minute {
		add("worker.coalesce_window", "%s is not between 0 and 1m", c.Worker.CoalesceWindow)
	}
	errs = append(errs, c.Ledger.validate()...)
	checkSchedule := func(key string, s Schedule) {
		if s.ReconcileAt != "" && s.ReconcileAt != "off" {
			if _, err := time.Parse("15:04", s.ReconcileAt); err != nil {
				add(key+".reconcile_at", "%q is not HH:MM or off", s.ReconcileAt)
			}
		}
		if s.ReconcileSpread >= 6*time.Hour {
			add(key+".reconcile_spread", "%s is not shorter than the 6h a night's reconcile may start in", s.ReconcileSpread)
		}
		if s.TimeZone != "" {
			if _, err := time.LoadLocation(s.TimeZone); err != nil {
				add(key+".time_zone", "%q is not an IANA time zone", s.TimeZone)
			}
		}
		if s.IncrementalEvery > 0 && s.IncrementalEvery < time.Minute {
			add(key+".incremental_every", "%s is shorter than 1m", s.IncrementalEvery)
		}
	}
	checkSchedule("schedule", c.Schedule)
	if _, err := mapping.New(c.Mapping); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validatePartner()...)
	if len(c.Tenants) == 0 && !c.Partner.Enabled() {
		add("tenants", "at least one tenant is required (or partner.tenant_id, to onboard discovered tenants)")
	}
	seen := map[string]int{}
	for i, t := range c.Tenants {
		key := fmt.Sprintf("tenants[%d]", i)
		if t.ID == "" {
			add(key+".id", "required (the tenant's directory id)")
		} else if j, dup := seen[strings.ToLower(t.ID)]; dup {
			add(key+".id", "%s is also tenants[%d].id", t.ID, j)
		} else {
			seen[strings.ToLower(t.ID)] = i
		}
		g := t.GraphApp(c.Graph)
		if g.ClientID == "" {
			add(key+".graph.client_id", "required here or in graph.client_id")
		}
		if g.ClientSecret == "" && g.CertificatePath == "" {
			add(key+".graph.client_secret", "a client secret or certificate_path is required here or in graph")
		}
		if t.Schedule != nil {
			checkSchedule(key+".schedule", *t.Schedule)
		}
		if t.Office365SyncFilter != "" {
			if _, err := mapping.CompileFilter(t.Office365SyncFilter); err != nil {
				add(key+".office365_sync_filter", "%v", err)
			}
		}
		for d, comp := range t.DomainCompanies {
			if !strings.Contains(d, ".") || strings.Contains(d, "@") {
				add(key+".domain_companies", "%q is not a mail domain", d)
			}
			if strings.TrimSpace(comp) == "" {
				add(key+".domain_companies."+d, "company id is empty")
			}
		}
	}
	return errors.Join(errs...)
}

func prefixed(prefix string, err error) error {
	var out []error
	for _, line := range strings.Split(err.Error(), "\n") {
		if line != "" {
			out = append(out, fmt.Errorf("%s.%s", prefix, line))
		}
	}
	return errors.Join(out...)
}
