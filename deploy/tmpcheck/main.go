// Command tmpcheck loads deploy's example configs with config.Parse.
package main

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/psasync/psasync/config"
)

func main() {
	env := map[string]string{}
	lookup := func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
	set := func(names ...string) {
		for _, n := range names {
			// Characters that break unquoted YAML: # starts a comment,
			// ": " a mapping, & an anchor, * an alias, ! a tag.
			env[n] = "#s3cr3t:&y*z!{}[]%@\"" + n
		}
	}
	fail := false
	check := func(name string, b []byte) {
		c, err := config.Parse(b, lookup)
		if err != nil {
			fmt.Printf("FAIL %s:\n%v\n", name, err)
			fail = true
			return
		}
		if want, ok := env["PSASYNC_GRAPH_CLIENT_SECRET"]; ok && c.Graph.ClientSecret != want {
			fmt.Printf("FAIL %s: graph.client_secret is %q, want %q\n", name, c.Graph.ClientSecret, want)
			fail = true
			return
		}
		fmt.Printf("ok   %s: psa=%s tenants=%d redis=%q listen=%q schedule=%+v\n", name, c.PSA.Type, len(c.Tenants), c.Redis.Addr, c.Server.Listen, c.Schedule)
	}
	base := "/work/main/deploy/"
	set("PSASYNC_REDIS_PASSWORD", "PSASYNC_GRAPH_CLIENT_SECRET", "PSASYNC_CONNECTWISE_PRIVATE_KEY", "PSASYNC_API_TOKEN",
		"PSASYNC_MONITORING_PASSWORD", "FABRIKAM_GRAPH_CLIENT_SECRET", "PSASYNC_AUTOTASK_SECRET", "PSASYNC_HALOPSA_CLIENT_SECRET")
	for _, f := range []string{"examples/psasync.example.yaml", "examples/psasync.autotask.yaml", "examples/psasync.halopsa.yaml", "examples/psasync.compose.yaml"} {
		b, err := os.ReadFile(base + f)
		if err != nil {
			panic(err)
		}
		check(f, b)
	}
	// The ConfigMap's embedded file, with only the Secret's keys set.
	env = map[string]string{}
	set("PSASYNC_REDIS_PASSWORD", "PSASYNC_GRAPH_CLIENT_SECRET", "PSASYNC_CONNECTWISE_PRIVATE_KEY", "PSASYNC_API_TOKEN")
	b, err := os.ReadFile(base + "kubernetes/configmap.yaml")
	if err != nil {
		panic(err)
	}
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.Unmarshal(b, &cm); err != nil {
		panic(err)
	}
	check("kubernetes/configmap.yaml data.psasync.yaml", []byte(cm.Data["psasync.yaml"]))
	// The compose config with only the .env.example variables set.
	env = map[string]string{}
	set("PSASYNC_GRAPH_CLIENT_SECRET", "PSASYNC_CONNECTWISE_PRIVATE_KEY", "PSASYNC_API_TOKEN", "PSASYNC_PUBLIC_URL")
	env["PSASYNC_PUBLIC_URL"] = "https://psasync.example.com"
	b, _ = os.ReadFile(base + "examples/psasync.compose.yaml")
	check("compose config with .env.example variables", b)
	// Negative control: a missing variable must fail.
	env = map[string]string{}
	b, _ = os.ReadFile(base + "examples/psasync.example.yaml")
	if _, err := config.Parse(b, lookup); err == nil {
		fmt.Println("FAIL negative control: missing variables were accepted")
		fail = true
	} else {
		fmt.Printf("ok   negative control (no env): %v\n", strings.ReplaceAll(err.Error(), "\n", " | "))
	}
	if fail {
		os.Exit(1)
	}
}
