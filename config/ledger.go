package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Ledger tunes the change log and the run history (package ledger); zero
// values take the ledger's defaults: 90 days (2160h), 5,000,000 entries, 50
// runs per tenant.
type Ledger struct {
	// Retention is how long change-log entries are kept: a Go duration
	// ("2160h") or a number of days ("90d").
	Retention time.Duration `yaml:"retention"`
	// MaxEntries bounds the change log whatever the entries' age.
	MaxEntries int64 `yaml:"max_entries"`
	// RunsPerTenant is how many runs each tenant's history keeps.
	RunsPerTenant int `yaml:"runs_per_tenant"`
	// QuarantineThreshold is how many permanent failures in a row
	// quarantine a user, and how many runs failing on consent or
	// permission quarantine a tenant (default 3).
	QuarantineThreshold int `yaml:"quarantine_threshold"`
}

// Bounds of the ledger settings.
const (
	minLedgerRetention  = time.Hour
	minLedgerMaxEntries = 1000
	maxRunsPerTenant    = 10_000
	maxQuarantineAfter  = 100
)

// validate names each bad ledger key.
func (l Ledger) validate() []error {
	var errs []error
	if l.Retention != 0 && l.Retention < minLedgerRetention {
		errs = append(errs, fmt.Errorf("ledger.retention: %s is shorter than %s (a Go duration, e.g. 2160h for 90 days)", l.Retention, minLedgerRetention))
	}
	if l.MaxEntries != 0 && l.MaxEntries < minLedgerMaxEntries {
		errs = append(errs, fmt.Errorf("ledger.max_entries: %d is less than %d", l.MaxEntries, minLedgerMaxEntries))
	}
	if l.RunsPerTenant < 0 || l.RunsPerTenant > maxRunsPerTenant {
		errs = append(errs, fmt.Errorf("ledger.runs_per_tenant: %d is not between 1 and %d", l.RunsPerTenant, maxRunsPerTenant))
	}
	if l.QuarantineThreshold < 0 || l.QuarantineThreshold > maxQuarantineAfter {
		errs = append(errs, fmt.Errorf("ledger.quarantine_threshold: %d is not between 1 and %d", l.QuarantineThreshold, maxQuarantineAfter))
	}
	return errs
}

// UnmarshalYAML decodes the ledger section so that each error names its key
// (yaml's own errors for a bad duration do not).
func (l *Ledger) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("ledger: line %d: must be a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		var err error
		switch k {
		case "retention":
			l.Retention, err = parseDays(v.Value)
		case "max_entries":
			err = v.Decode(&l.MaxEntries)
		case "runs_per_tenant":
			err = v.Decode(&l.RunsPerTenant)
		case "quarantine_threshold":
			err = v.Decode(&l.QuarantineThreshold)
		default:
			return fmt.Errorf("ledger: line %d: unknown key %q (known: retention, max_entries, runs_per_tenant, quarantine_threshold)", v.Line, k)
		}
		if err != nil {
			return fmt.Errorf("ledger.%s: line %d: %q is not valid: %w", k, v.Line, v.Value, err)
		}
	}
	return nil
}

// parseDays reads a Go duration or a whole number of days ("90d").
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("want a Go duration (2160h) or days (90d)")
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want a Go duration (2160h) or days (90d)")
	}
	return d, nil
}
