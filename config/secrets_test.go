package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// secretsBase is good with a monitoring user (so basic_auth_password is
// accepted) and the env references of good resolved.
func secretsBase(t *testing.T) map[string]any {
	t.Helper()
	y := strings.NewReplacer("${GRAPH_SECRET}", "from-yaml-graph", "${CW_PRIVATE}", "from-yaml-cw").Replace(good)
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(y), &m))
	setKey(t, m, "server.monitoring.basic_auth_user", "admin")
	setKey(t, m, "server.monitoring.basic_auth_password", "from-yaml-basic")
	return m
}

// secretsBaseFor is secretsBase with the section key belongs to made
// valid on its own: a Sentinel or Cluster secret needs the rest of its
// section.
func secretsBaseFor(t *testing.T, key string) map[string]any {
	t.Helper()
	m := secretsBase(t)
	switch {
	case strings.HasPrefix(key, "redis.sentinel."):
		setKey(t, m, "redis.sentinel.master_name", "mymaster")
		setKey(t, m, "redis.sentinel.addrs", []any{"10.0.0.1:26379"})
	case strings.HasPrefix(key, "redis.cluster."):
		setKey(t, m, "redis.cluster.addrs", []any{"10.0.0.1:7000"})
	}
	return m
}

// setKey sets (or, with v nil, deletes) a dotted key such as
// tenants[0].graph.client_secret in a decoded YAML document.
func setKey(t *testing.T, m map[string]any, key string, v any) {
	t.Helper()
	parts := strings.Split(key, ".")
	cur := m
	for _, p := range parts[:len(parts)-1] {
		name, idx, indexed := strings.Cut(p, "[")
		next, ok := cur[name]
		if !ok {
			next = map[string]any{}
			cur[name] = next
		}
		if indexed {
			i, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			require.NoError(t, err)
			next = next.([]any)[i]
		}
		cur = next.(map[string]any)
	}
	if v == nil {
		delete(cur, parts[len(parts)-1])
		return
	}
	cur[parts[len(parts)-1]] = v
}

func parseMap(t *testing.T, m map[string]any, envs map[string]string) (*Config, error) {
	t.Helper()
	b, err := yaml.Marshal(m)
	require.NoError(t, err)
	return Parse(b, env(envs))
}

// secretOf finds a secret of c by its dotted key.
func secretOf(t *testing.T, c *Config, key string) secretKey {
	t.Helper()
	for _, s := range c.secretKeys() {
		if s.key == key {
			return s
		}
	}
	t.Fatalf("%s is not a secret key", key)
	return secretKey{}
}

// testSecretKeys are the secret keys of a config with one tenant, from the
// one list the config itself uses.
func testSecretKeys() []string {
	var keys []string
	for _, s := range (&Config{Tenants: []Tenant{{}}}).secretKeys() {
		keys = append(keys, s.key)
	}
	return keys
}

func writeSecret(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestEverySecretKeyHasAFileForm(t *testing.T) {
	t.Parallel()
	for _, key := range testSecretKeys() {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			want := "from-file:" + key
			m := secretsBaseFor(t, key)
			setKey(t, m, key, nil)
			setKey(t, m, key+FileSuffix, writeSecret(t, want+"\n"))
			c, err := parseMap(t, m, nil)
			require.NoError(t, err)
			s := secretOf(t, c, key)
			require.Equal(t, want, *s.value, "the file's content, one trailing newline trimmed")
			require.Empty(t, *s.file, "the file form is consumed, so the config marshals back to one Load accepts")
		})
	}
}

func TestSecretFileErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	const inline = "topsecret-inline-value"
	const content = "topsecret-file-content"
	dir := t.TempDir()
	cases := []struct {
		name string
		// file returns the x_file value for a subtest; inline, when set,
		// is given as x too.
		file   func(t *testing.T) string
		inline bool
		says   func(key, path string) []string
	}{
		{"both x and x_file", func(t *testing.T) string { return writeSecret(t, content) }, true,
			func(key, _ string) []string {
				return []string{key + " and " + key + FileSuffix + ": give one, not both"}
			}},
		{"missing file", func(t *testing.T) string { return filepath.Join(dir, "nope") }, false,
			func(key, path string) []string {
				return []string{key + FileSuffix + ": cannot read " + path + ": no such file or directory"}
			}},
		{"a directory", func(t *testing.T) string { return t.TempDir() }, false,
			func(key, path string) []string {
				return []string{key + FileSuffix + ": cannot read " + path + ": is a directory"}
			}},
		{"empty file", func(t *testing.T) string { return writeSecret(t, "") }, false,
			func(key, path string) []string { return []string{key + FileSuffix + ": " + path + " is empty"} }},
		{"only a newline", func(t *testing.T) string { return writeSecret(t, "\r\n") }, false,
			func(key, path string) []string { return []string{key + FileSuffix + ": " + path + " is empty"} }},
		{"too large", func(t *testing.T) string { return writeSecret(t, strings.Repeat(content, MaxSecretFileBytes)) }, false,
			func(key, path string) []string { return []string{key + FileSuffix + ": " + path + " is larger than"} }},
	}
	for _, key := range testSecretKeys() {
		for _, tc := range cases {
			t.Run(key+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				m := secretsBase(t)
				setKey(t, m, key, nil)
				if tc.inline {
					setKey(t, m, key, inline)
				}
				path := tc.file(t)
				setKey(t, m, key+FileSuffix, path)
				_, err := parseMap(t, m, nil)
				require.Error(t, err)
				if tc.name == "missing file" {
					require.ErrorIs(t, err, fs.ErrNotExist, "the cause is kept for errors.Is")
				}
				for _, s := range tc.says(key, path) {
					require.Contains(t, err.Error(), s)
				}
				require.NotContains(t, err.Error(), "topsecret", "no secret in the error")
			})
		}
	}
}

func TestSecretFileContentTrimsOneNewline(t *testing.T) {
	t.Parallel()
	tests := []struct{ content, want string }{
		{"abc", "abc"},
		{"abc\n", "abc"},
		{"abc\r\n", "abc"},
		{"abc\n\n", "abc\n"},
		{"  abc \t", "  abc \t"},
		{"abc\r", "abc\r"},
		{"line1\nline2\n", "line1\nline2"},
		{"${NOT_EXPANDED}\n", "${NOT_EXPANDED}"},
	}
	for i, tc := range tests {
		// The index names the subtest: its temp dir must not hold "${".
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			m := secretsBase(t)
			setKey(t, m, "graph.client_secret", nil)
			setKey(t, m, "graph.client_secret_file", writeSecret(t, tc.content))
			c, err := parseMap(t, m, nil)
			require.NoError(t, err)
			require.Equal(t, tc.want, c.Graph.ClientSecret, "content %q", tc.content)
		})
	}
}

func TestSecretFilesWithEnvAndOtherErrors(t *testing.T) {
	t.Parallel()
	t.Run("path from ${VAR}, env override wins over the file", func(t *testing.T) {
		t.Parallel()
		p := writeSecret(t, "from-file\n")
		y := strings.Replace(good, "client_secret: ${GRAPH_SECRET}", "client_secret_file: ${SECRETS}/"+filepath.Base(p), 1)
		y = strings.Replace(y, "private_key: ${CW_PRIVATE}", "private_key_file: ${SECRETS}/"+filepath.Base(p), 1)
		c, err := Parse([]byte(y), env(map[string]string{"SECRETS": filepath.Dir(p), "PSASYNC_CONNECTWISE_PRIVATE_KEY": "from-env"}))
		require.NoError(t, err)
		require.Equal(t, "from-file", c.Graph.ClientSecret)
		require.Equal(t, "from-env", c.PSA.ConnectWise.PrivateKey)
		tn, _ := c.Tenant("contoso")
		require.Equal(t, "from-file", tn.GraphApp(c.Graph).ClientSecret, "tenants inherit a secret read from a file")
	})
	t.Run("every problem at once, no secret", func(t *testing.T) {
		t.Parallel()
		m := secretsBase(t)
		setKey(t, m, "graph.client_secret_file", writeSecret(t, "topsecret-graph\n"))
		setKey(t, m, "redis.password_file", writeSecret(t, "\n"))
		setKey(t, m, "log.level", "loud")
		_, err := parseMap(t, m, nil)
		require.Error(t, err)
		for _, s := range []string{"graph.client_secret and graph.client_secret_file", "redis.password_file:", "log.level"} {
			require.Contains(t, err.Error(), s)
		}
		require.NotContains(t, err.Error(), "topsecret")
		require.NotContains(t, err.Error(), "from-yaml")
	})
}

// secretName is what a secret key's last part looks like. A new key that
// matches it must be in secretKeys, which gives it its file form.
var secretName = regexp.MustCompile(`secret|password|token|private_key|integration_code|api_key`)

func TestNoSecretKeyMissesItsFileForm(t *testing.T) {
	t.Parallel()
	listed := map[string]bool{}
	for _, k := range SecretKeys() {
		listed[k] = true
	}
	var found []string
	var walk func(prefix string, ty reflect.Type)
	walk = func(prefix string, ty reflect.Type) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			if ty.Kind() == reflect.Slice {
				prefix += "[N]"
			}
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct {
			return
		}
		fields := map[string]bool{}
		for f := range ty.Fields() {
			tag := f.Tag.Get("yaml")
			name, opts, _ := strings.Cut(tag, ",")
			if opts == "inline" {
				walk(prefix, f.Type)
				continue
			}
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			fields[name] = true
			key := strings.TrimPrefix(prefix+"."+name, ".")
			if f.Type.Kind() == reflect.String && secretName.MatchString(name) && !strings.HasSuffix(name, FileSuffix) {
				found = append(found, key)
				require.True(t, listed[key], "%s looks like a secret: list it in secretKeys so it gets %s%s", key, key, FileSuffix)
			}
			walk(key, f.Type)
		}
	}
	walk("", reflect.TypeFor[Config]())
	require.ElementsMatch(t, SecretKeys(), found, "every listed secret is a string key of the config")
}
