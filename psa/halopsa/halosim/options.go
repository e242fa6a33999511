package halosim

import "time"

// Default credentials and limits of a new simulator. The rate limit is the one
// hosted Halo documents to integrators ("300 Requests per rolling 5 minute
// window"); the token lifetime is Halo's usual expires_in of one hour.
const (
	// DefaultClientID is the API application's client id the sim accepts.
	DefaultClientID = "psasync-halosim"
	// DefaultClientSecret is the matching client secret.
	DefaultClientSecret = "halosim-secret"
	// DefaultRateLimit is how many API requests hosted Halo accepts per window.
	DefaultRateLimit = 300
	// DefaultRateWindow is the rolling window of DefaultRateLimit.
	DefaultRateWindow = 5 * time.Minute
	// DefaultTokenTTL is the lifetime of an access token (expires_in).
	DefaultTokenTTL = time.Hour
	// DefaultAuthPath is where the authorisation server lives on the
	// instance, as on a self-hosted Halo ({instance}/auth).
	DefaultAuthPath = "/auth"
	// DefaultRecordLimit bounds Requests(): older recordings are dropped so a
	// long-running standalone sim does not grow without end.
	DefaultRecordLimit = 10000
)

// User custom fields every simulated instance defines, as an MSP would
// create them for what a Halo user has no native field for. Clients that map
// office location or contact type to custom fields use these names.
const (
	// CustomFieldOfficeLocation holds SeedContact.OfficeLocation.
	CustomFieldOfficeLocation = "CFOfficeLocation"
	// CustomFieldContactType holds SeedContact.ContactType.
	CustomFieldContactType = "CFContactType"
)

// Option changes a simulator built by New or NewServer.
type Option func(*settings)

type settings struct {
	clientID, clientSecret string
	tenant                 string
	authPath               string
	authInfo               bool
	tokenTTL               time.Duration
	rateLimit              int
	rateWindow             time.Duration
	clock                  func() time.Time
	allowDuplicateEmails   bool
	recordLimit            int
}

func defaultSettings() settings {
	return settings{
		clientID:     DefaultClientID,
		clientSecret: DefaultClientSecret,
		authPath:     DefaultAuthPath,
		authInfo:     true,
		tokenTTL:     DefaultTokenTTL,
		rateLimit:    DefaultRateLimit,
		rateWindow:   DefaultRateWindow,
		clock:        time.Now,
		recordLimit:  DefaultRecordLimit,
	}
}

// WithCredentials changes the client id and secret the token endpoint accepts.
func WithCredentials(clientID, clientSecret string) Option {
	return func(s *settings) { s.clientID, s.clientSecret = clientID, clientSecret }
}

// WithTenant makes the sim behave like a hosted instance: the token endpoint
// then requires ?tenant=name, and /api/authinfo reports it.
func WithTenant(name string) Option {
	return func(s *settings) { s.tenant = name }
}

// WithAuthPath moves the authorisation server to another path (default
// "/auth"), so a test can prove the client discovers it through
// /api/authinfo instead of guessing.
func WithAuthPath(path string) Option {
	return func(s *settings) { s.authPath = "/" + trimSlashes(path) }
}

// WithoutAuthInfo makes GET /api/authinfo answer 404, as older or locked-down
// instances do, so clients must fall back to {instance}/auth.
func WithoutAuthInfo() Option {
	return func(s *settings) { s.authInfo = false }
}

// WithTokenTTL sets the lifetime of issued access tokens so that refresh
// before expiry can be tested quickly.
func WithTokenTTL(d time.Duration) Option {
	return func(s *settings) { s.tokenTTL = d }
}

// WithRateLimit sets the rolling-window limit on /api requests; limit <= 0
// turns limiting off (an on-premise instance has none).
func WithRateLimit(limit int, window time.Duration) Option {
	return func(s *settings) { s.rateLimit, s.rateWindow = limit, window }
}

// WithClock replaces time.Now for token expiry and the rate-limit window, so
// tests can move time instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(s *settings) { s.clock = now }
}

// WithDuplicateEmailsAllowed lets two users of one client share an email
// address. By default the sim refuses that with a 400 (see Sim).
func WithDuplicateEmailsAllowed() Option {
	return func(s *settings) { s.allowDuplicateEmails = true }
}

// WithRecordLimit changes how many requests Requests() keeps (oldest dropped
// first); n <= 0 keeps none.
func WithRecordLimit(n int) Option {
	return func(s *settings) { s.recordLimit = n }
}

func trimSlashes(p string) string {
	for len(p) > 0 && p[0] == '/' {
		p = p[1:]
	}
	for len(p) > 0 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}
