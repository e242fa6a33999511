// Package graph is psasync's access to Microsoft Graph for one tenant: users,
// /users/delta and change-notification subscriptions, authenticated with
// azidentity (client secret or certificate) and sent through msgraph-sdk-go.
//
// It is the only package that imports the SDK; everything it returns is a
// plain type of package directory, and every failure unwraps to one of
// directory's error classes.
//
// Throttling: kiota's own retry handler is replaced (it truncates
// fractional Retry-After values such as "2.128" to whole seconds). Instead a
// throttled request (429, 503, 504) is retried inside the client at most
// WithThrottleRetry times, and only when the server's Retry-After (1 s, then
// 2 s, when it sends none) is at most the configured wait: by default 2
// retries of up to 5 s each, so one request never waits more than about ten
// seconds. Past that the caller gets a *directory.ThrottledError carrying the
// server's RetryAfter and decides (asynq's retry delay, or the engine's
// bounded wait).
package graph

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	kiotaauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	textser "github.com/microsoft/kiota-serialization-text-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/subscriptions"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/sirupsen/logrus"
)

// sdkVersion is reported in Graph's SdkVersion telemetry header.
const sdkVersion = "1.89.0"

// defaultTimeout bounds one Graph request when the HTTP client sets none.
const defaultTimeout = 100 * time.Second

// knownAuthorities are the public and national clouds' authority hosts,
// for which MSAL's instance discovery stays on.
var knownAuthorities = []string{
	"login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn",
}

// Client reads users and manages subscriptions in one tenant. It is safe
// for concurrent use.
type Client struct {
	cfg      Config
	opts     options
	log      logrus.FieldLogger
	adapter  abs.RequestAdapter
	requests *atomic.Int64
	origin   string   // scheme://host of BaseURL
	batch    *batcher // nil unless WithBatch
}

// New builds the client for one tenant. It reads the certificate file, if
// any, but makes no request: a bad secret shows on the first call as
// ErrPermissionDenied.
func New(ctx context.Context, cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("graph: new client: %w", err)
	}
	cfg = cfg.WithDefaults()
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.pageSize < 1 || o.pageSize > 999 {
		return nil, fmt.Errorf("graph: page size %d is outside 1..999", o.pageSize)
	}
	if o.batchLinger < 0 || o.batchLinger > time.Second {
		return nil, fmt.Errorf("graph: batch linger %s is outside 0..1s", o.batchLinger)
	}
	if o.maxPages < 1 {
		return nil, fmt.Errorf("graph: max pages %d must be positive", o.maxPages)
	}
	base, timeout, err := baseTransport(o.httpClient, cfg.CAFile)
	if err != nil {
		return nil, err
	}
	cred, err := newCredential(cfg, &http.Client{Transport: base, Timeout: timeout})
	if err != nil {
		return nil, err
	}
	baseURL, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("graph config: base_url: %w", err)
	}
	scope := baseURL.Scheme + "://" + baseURL.Host + "/.default"
	auth, err := kiotaauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{scope}, []string{baseURL.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("graph: auth provider: %w", err)
	}
	log := o.log.WithField("tenant", cfg.TenantID)
	counter := &atomic.Int64{}
	transport := &throttleTransport{
		next:    &countingTransport{next: base, count: counter},
		retries: o.throttleRetries,
		maxWait: o.maxThrottleWait,
		log:     log,
	}
	hc := &http.Client{
		Transport:     khttp.NewCustomTransportWithParentTransport(transport, graphMiddlewares()...),
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	parsers := absser.NewParseNodeFactoryRegistry()
	parsers.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonParseNodeFactory()
	parsers.ContentTypeAssociatedFactories["text/plain"] = textser.NewTextParseNodeFactory()
	writers := absser.NewSerializationWriterFactoryRegistry()
	writers.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonSerializationWriterFactory()
	writers.ContentTypeAssociatedFactories["text/plain"] = textser.NewTextSerializationWriterFactory()
	adapter, err := msgraphcore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, msgraphcore.GraphClientOptions{GraphServiceLibraryVersion: sdkVersion}, parsers, writers, hc)
	if err != nil {
		return nil, fmt.Errorf("graph: request adapter: %w", err)
	}
	adapter.SetBaseUrl(cfg.BaseURL)
	o.batchTimeout = timeout
	c := &Client{
		cfg:      cfg,
		opts:     o,
		log:      log,
		adapter:  adapter,
		requests: counter,
		origin:   baseURL.Scheme + "://" + baseURL.Host,
	}
	if o.batchLinger > 0 {
		c.batch = newBatcher(c, o.batchLinger)
	}
	return c, nil
}

// users is a fresh /users request builder. A builder's path parameters
// are a map the SDK writes on every request, so one shared builder races
// when the client is used from several goroutines.
func (c *Client) users() *users.UsersRequestBuilder {
	return users.NewUsersRequestBuilderInternal(map[string]string{"baseurl": c.cfg.BaseURL}, c.adapter)
}

// subs is a fresh /subscriptions request builder (see users).
func (c *Client) subs() *subscriptions.SubscriptionsRequestBuilder {
	return subscriptions.NewSubscriptionsRequestBuilderInternal(map[string]string{"baseurl": c.cfg.BaseURL}, c.adapter)
}

// TenantID names the tenant this client reads.
func (c *Client) TenantID() string { return c.cfg.TenantID }

// Requests counts the HTTP requests sent to Graph (token requests and
// retries included only for Graph itself), for run reports and benchmarks.
func (c *Client) Requests() int64 { return c.requests.Load() }

// graphMiddlewares is the Graph SDK's default pipeline without kiota's retry
// handler; throttleTransport replaces it.
func graphMiddlewares() []khttp.Middleware {
	all := msgraphcore.GetDefaultMiddlewaresWithOptions(&msgraphcore.GraphClientOptions{GraphServiceLibraryVersion: sdkVersion})
	out := make([]khttp.Middleware, 0, len(all))
	for _, m := range all {
		if _, isRetry := m.(*khttp.RetryHandler); isRetry {
			continue
		}
		out = append(out, m)
	}
	return out
}

// baseTransport picks the transport under everything (the given client's,
// else a clone of the default) and adds the CA file's roots.
func baseTransport(hc *http.Client, caFile string) (http.RoundTripper, time.Duration, error) {
	timeout := defaultTimeout
	var rt http.RoundTripper
	if hc != nil {
		if hc.Timeout > 0 {
			timeout = hc.Timeout
		}
		rt = hc.Transport
	}
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	if caFile == "" {
		return rt, timeout, nil
	}
	pemData, err := os.ReadFile(caFile)
	if err != nil {
		return nil, 0, fmt.Errorf("graph config: ca_file: %w", err)
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return nil, 0, errors.New("graph config: ca_file needs the HTTP client's transport to be an *http.Transport")
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, 0, fmt.Errorf("graph config: ca_file: %s holds no PEM certificate", caFile)
	}
	t = t.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	t.TLSClientConfig.RootCAs = pool
	return t, timeout, nil
}

// newCredential builds the azidentity credential: a client secret, or a
// certificate read from CertificatePath.
func newCredential(cfg Config, tokenClient *http.Client) (azcore.TokenCredential, error) {
	host := strings.ToLower(hostOf(cfg.AuthorityHost))
	discovery := false
	for _, known := range knownAuthorities {
		if host == known {
			discovery = true
		}
	}
	clientOpts := azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: cfg.AuthorityHost},
		Transport: tokenClient,
		Retry:     policy.RetryOptions{MaxRetries: 2, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 5 * time.Second},
	}
	if cfg.CertificatePath == "" {
		cred, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: clientOpts, DisableInstanceDiscovery: !discovery})
		if err != nil {
			return nil, fmt.Errorf("graph: client secret credential: %w", err)
		}
		return cred, nil
	}
	data, err := os.ReadFile(cfg.CertificatePath)
	if err != nil {
		return nil, fmt.Errorf("graph config: certificate_path: %w", err)
	}
	var password []byte
	if cfg.CertificatePassword != "" {
		password = []byte(cfg.CertificatePassword)
	}
	certs, key, err := azidentity.ParseCertificates(data, password)
	if err != nil {
		return nil, fmt.Errorf("graph config: certificate_path: %w", err)
	}
	cred, err := azidentity.NewClientCertificateCredential(cfg.TenantID, cfg.ClientID, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: clientOpts, DisableInstanceDiscovery: !discovery})
	if err != nil {
		return nil, fmt.Errorf("graph: client certificate credential: %w", err)
	}
	return cred, nil
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
