package atsim

import (
	"strings"
	"time"
)

// Option changes a simulator's defaults; pass options to New or NewServer.
type Option func(*config)

// WithCredentials sets the API user name, secret and integration code
// (tracking identifier) the simulator accepts.
func WithCredentials(username, secret, integrationCode string) Option {
	return func(c *config) {
		c.username, c.secret, c.integrationCode = username, secret, integrationCode
	}
}

// WithHourlyLimit sets the external request threshold per rolling hour;
// 0 switches the limit (and its added latency) off.
func WithHourlyLimit(n int) Option {
	return func(c *config) { c.hourlyLimit = max(n, 0) }
}

// WithThreadLimit sets the concurrent requests allowed per integration code
// and endpoint; 0 switches thread limiting off.
func WithThreadLimit(n int) Option {
	return func(c *config) { c.threadLimit = max(n, 0) }
}

// WithClock replaces the clock the rolling hour is measured with, so tests
// can move time forward instead of waiting.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithLatencyScale multiplies the usage-based latency (0.5 s past 50% of the
// hourly threshold, 1 s past 75%); 0 removes it, 0.001 turns seconds into
// milliseconds.
func WithLatencyScale(f float64) Option {
	return func(c *config) { c.latencyScale = max(f, 0) }
}

// WithUDFNames names the contact UDFs that SeedContact's Department,
// OfficeLocation and ContactType are stored in; they are defined on every
// simulated contact. An empty name leaves that field out.
func WithUDFNames(department, officeLocation, contactType string) Option {
	return func(c *config) {
		c.departmentUDF = strings.TrimSpace(department)
		c.officeLocationUDF = strings.TrimSpace(officeLocation)
		c.contactTypeUDF = strings.TrimSpace(contactType)
	}
}

// WithContactUDF defines an additional contact UDF (for example one that
// holds the Microsoft 365 object id); writes to undefined UDFs are rejected.
func WithContactUDF(name string) Option {
	return func(c *config) {
		if name = strings.TrimSpace(name); name != "" {
			c.extraUDFs = append(c.extraUDFs, name)
		}
	}
}

// WithAllowDuplicateEmails lets two contacts of one company share an email
// address, for databases where the duplicate check is off.
func WithAllowDuplicateEmails() Option {
	return func(c *config) { c.allowDuplicateEmails = true }
}

// WithRecordLimit bounds how many recent requests Requests keeps (default
// 10,000); 0 keeps none.
func WithRecordLimit(n int) Option {
	return func(c *config) { c.recordLimit = max(n, 0) }
}

// WithTenantIDUDF names the company UDF SeedCompany's TenantID is stored in
// (default DefaultTenantIDUDF); it is the one company UDF defined.
func WithTenantIDUDF(name string) Option {
	return func(c *config) {
		if name = strings.TrimSpace(name); name != "" {
			c.companyUDFs = []string{name}
		}
	}
}
