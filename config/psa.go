package config

import (
	"github.com/psasync/psasync/psa/autotask"
	"github.com/psasync/psasync/psa/connectwise"
	"github.com/psasync/psasync/psa/halopsa"
	"github.com/psasync/psasync/psa/quota"
)

// PSA selects the PSA and holds each vendor's settings.
type PSA struct {
	Type        string      `yaml:"type"` // connectwise, autotask or halopsa
	ConnectWise ConnectWise `yaml:"connectwise"`
	Autotask    Autotask    `yaml:"autotask"`
	HaloPSA     HaloPSA     `yaml:"halopsa"`
	// Quota is psasync's own budget for the PSA, shared by every replica
	// through Redis; unset takes quota.Defaults (half the vendor's budget).
	Quota *quota.Config `yaml:"quota"`
}

// EffectiveQuota is the PSA budget in force; its Redis key lives under the
// config's key prefix unless the quota names its own.
func (c *Config) EffectiveQuota() quota.Config {
	q := quota.Defaults(c.PSA.Type)
	if c.PSA.Quota != nil {
		q = c.PSA.Quota.WithDefaults()
		q.Key = c.PSA.Quota.Key
	}
	if q.Key == "" {
		q.Key = c.Redis.Prefix() + "quota:" + c.PSA.Type
	}
	return q
}

// PSA types.
const (
	PSAConnectWise = "connectwise"
	PSAAutotask    = "autotask"
	PSAHaloPSA     = "halopsa"
)

// ConnectWise is psa.connectwise: the client's config plus the file form
// of its secret, which only the config file has (the client takes the
// secret itself).
type ConnectWise struct {
	connectwise.Config `yaml:",inline"`
	// PrivateKeyFile holds PrivateKey instead (see SecretKeys).
	PrivateKeyFile string `yaml:"private_key_file"`
}

// Autotask is psa.autotask: the client's config plus the file forms of its
// secrets.
type Autotask struct {
	autotask.Config `yaml:",inline"`
	// SecretFile and IntegrationCodeFile hold Secret and IntegrationCode
	// instead (see SecretKeys).
	SecretFile          string `yaml:"secret_file"`
	IntegrationCodeFile string `yaml:"integration_code_file"`
}

// HaloPSA is psa.halopsa: the client's config plus the file form of its
// secret.
type HaloPSA struct {
	halopsa.Config `yaml:",inline"`
	// ClientSecretFile holds ClientSecret instead (see SecretKeys).
	ClientSecretFile string `yaml:"client_secret_file"`
}
