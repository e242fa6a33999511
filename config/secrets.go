package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// FileSuffix turns a secret key into its file form: client_secret_file
// names a file whose content is client_secret, for Kubernetes secret
// mounts and Docker secrets.
const FileSuffix = "_file"

// MaxSecretFileBytes bounds a secret file, so a mistyped path (a log, a
// device) fails instead of filling memory.
const MaxSecretFileBytes = 64 << 10

// secretKey is one secret in the config: its dotted key, where its value
// lives and where its file form lives.
type secretKey struct {
	key   string
	value *string
	file  *string
}

// secretKeys lists every secret of c, tenants included. It is the one
// place a secret is declared: the file form, the "not both" rule and the
// tests all come from it, so a secret added here cannot miss its _file key.
func (c *Config) secretKeys() []secretKey {
	keys := []secretKey{
		{"redis.password", &c.Redis.Password, &c.Redis.PasswordFile},
		{"redis.sentinel.password", &c.Redis.Sentinel.Password, &c.Redis.Sentinel.PasswordFile},
		{"redis.sentinel.sentinel_password", &c.Redis.Sentinel.SentinelPassword, &c.Redis.Sentinel.SentinelPasswordFile},
		{"redis.cluster.password", &c.Redis.Cluster.Password, &c.Redis.Cluster.PasswordFile},
		{"graph.client_secret", &c.Graph.ClientSecret, &c.Graph.ClientSecretFile},
		{"graph.certificate_password", &c.Graph.CertificatePassword, &c.Graph.CertificatePasswordFile},
		{"psa.connectwise.private_key", &c.PSA.ConnectWise.PrivateKey, &c.PSA.ConnectWise.PrivateKeyFile},
		{"psa.autotask.secret", &c.PSA.Autotask.Secret, &c.PSA.Autotask.SecretFile},
		{"psa.autotask.integration_code", &c.PSA.Autotask.IntegrationCode, &c.PSA.Autotask.IntegrationCodeFile},
		{"psa.halopsa.client_secret", &c.PSA.HaloPSA.ClientSecret, &c.PSA.HaloPSA.ClientSecretFile},
		{"server.api_token", &c.Server.APIToken, &c.Server.APITokenFile},
		{"server.monitoring.basic_auth_password", &c.Server.Monitoring.BasicAuthPassword, &c.Server.Monitoring.BasicAuthPasswordFile},
		{"partner.client_secret", &c.Partner.ClientSecret, &c.Partner.ClientSecretFile},
	}
	for i := range c.Tenants {
		g := &c.Tenants[i].Graph
		key := fmt.Sprintf("tenants[%d].graph.", i)
		keys = append(keys,
			secretKey{key + "client_secret", &g.ClientSecret, &g.ClientSecretFile},
			secretKey{key + "certificate_password", &g.CertificatePassword, &g.CertificatePasswordFile},
		)
	}
	return keys
}

// SecretKeys are the dotted keys of every secret in the config, tenants[N]
// standing for each tenant. Each also has a file form, the key plus
// FileSuffix.
func SecretKeys() []string {
	c := &Config{Tenants: []Tenant{{}}}
	var out []string
	for _, s := range c.secretKeys() {
		out = append(out, strings.Replace(s.key, "tenants[0]", "tenants[N]", 1))
	}
	return out
}

// readSecretFiles replaces every x_file by the content of its file in x,
// and empties x_file, so a loaded config holds each secret in one place
// (and marshals back to a config Load accepts). It returns one error per
// bad key; none carries a secret, only keys and paths.
func (c *Config) readSecretFiles(readFile func(string) ([]byte, error)) []error {
	var errs []error
	for _, s := range c.secretKeys() {
		path := *s.file
		if path == "" {
			continue
		}
		fileKey := s.key + FileSuffix
		if *s.value != "" {
			errs = append(errs, fmt.Errorf("%s and %s: give one, not both", s.key, fileKey))
			continue
		}
		v, err := readSecretFile(path, readFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", fileKey, err))
			continue
		}
		*s.value, *s.file = v, ""
	}
	return errs
}

// errEmptySecretFile is returned for a secret file with nothing in it but
// a newline.
var errEmptySecretFile = errors.New("is empty")

// readSecretFile reads one secret: the file's bytes with one trailing
// "\n" (or "\r\n") removed, nothing else trimmed. Errors name the path,
// never the content.
func readSecretFile(path string, readFile func(string) ([]byte, error)) (string, error) {
	b, err := readFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, pathless(err))
	}
	if len(b) > MaxSecretFileBytes {
		return "", fmt.Errorf("%s is larger than %d bytes", path, MaxSecretFileBytes)
	}
	if bytes.HasSuffix(b, []byte("\r\n")) {
		b = b[:len(b)-2]
	} else {
		b = bytes.TrimSuffix(b, []byte("\n"))
	}
	if len(b) == 0 {
		return "", fmt.Errorf("%s %w", path, errEmptySecretFile)
	}
	return string(b), nil
}

// pathless drops the path from an *os.PathError, which the caller already
// names, keeping the cause (and errors.Is on it).
func pathless(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readLimited is os.ReadFile bounded by MaxSecretFileBytes (+1, so an
// oversized file is seen as such).
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxSecretFileBytes+1))
}
