package cwsim

import "time"

// config is the simulator's fixed setup, chosen by Options at New.
type config struct {
	companyID, publicKey, privateKey, clientID string
	apiVersion                                 string
	latency                                    time.Duration
	externalIDField, officeField               int
	tenantField                                int
	recordLimit                                int
}

// Option changes how New sets up a simulator.
type Option func(*config)

// WithCredentials replaces the default credentials: the login company, the
// API member's key pair and the clientId the simulator accepts.
func WithCredentials(companyID, publicKey, privateKey, clientID string) Option {
	return func(c *config) {
		c.companyID, c.publicKey, c.privateKey, c.clientID = companyID, publicKey, privateKey, clientID
	}
}

// WithLatency delays every API answer by d, to imitate a distant site in
// benchmarks and timeout tests.
func WithLatency(d time.Duration) Option {
	return func(c *config) { c.latency = d }
}

// WithExternalIDField sets the contact custom field id that SeedContact and
// Contacts use for ExternalID (the M365 object id); the field is defined on
// the simulated site. Default ExternalIDFieldID.
func WithExternalIDField(id int) Option {
	return func(c *config) { c.externalIDField = id }
}

// WithOfficeLocationField sets the contact custom field id that SeedContact
// and Contacts use for OfficeLocation. Default OfficeLocationFieldID.
func WithOfficeLocationField(id int) Option {
	return func(c *config) { c.officeField = id }
}

// WithAPIVersion sets the version the simulator answers with when a request
// names none in its Accept header. Default DefaultAPIVersion.
func WithAPIVersion(v string) Option {
	return func(c *config) { c.apiVersion = v }
}

// WithRecordLimit keeps only the most recent n recorded requests, so that a
// long-running psasim does not grow without bound; 0 keeps all of them.
func WithRecordLimit(n int) Option {
	return func(c *config) { c.recordLimit = n }
}

// WithTenantIDField sets the company custom field id that SeedCompany and
// Company use for TenantID (the Microsoft 365 tenant id); the field is
// defined on the simulated site's companies. Default TenantIDFieldID.
func WithTenantIDField(id int) Option {
	return func(c *config) { c.tenantField = id }
}
