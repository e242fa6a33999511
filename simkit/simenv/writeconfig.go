package simenv

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/psasync/psasync/mapping"
	"github.com/psasync/psasync/psa/quota"
)

// simulatorBudget is the PSA quota a written config gives psasync when the
// PSA simulator enforces none: large enough never to make psasync wait, so
// a first sync of thousands of users takes seconds, while psasync's shared
// limiter stays in the path as it is on a real site.
var simulatorBudget = quota.Config{Requests: 1_000_000, Period: time.Hour}

// WriteConfig writes the config as YAML to path, with the Graph
// simulator's certificate beside it (ca_cert_path), so a separate psasync
// process can use the simulators. Only the keys the simulated world sets
// are written, each non-obvious one with a comment: a zero value means
// "the default" in psasync's config, so none is written, and neither is an
// empty secret.
func (e *Env) WriteConfig(path string) error {
	ca := filepath.Join(filepath.Dir(path), filepath.Base(path)+".graphsim-ca.pem")
	if err := os.WriteFile(ca, e.Graph.CertificatePEM(), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", ca, err)
	}
	b, err := e.configYAML(path, ca)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// configYAML renders the written config: e.Config with the certificate
// path, the mapping reduced to what differs from mapping.DefaultConfig
// (config.Load starts from it) and a budget for a simulator without quota.
func (e *Env) configYAML(path, ca string) ([]byte, error) {
	c := *e.Config
	c.Graph.CACertPath = ca
	c.Mapping = mapping.Config{Exclusions: mapping.Exclusions{UPNPatterns: e.Config.Mapping.Exclusions.UPNPatterns}}
	if !e.vendorQuota {
		budget := simulatorBudget
		c.PSA.Quota = &budget
	}
	var doc yaml.Node
	if err := doc.Encode(&c); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	pruneZero(&doc)
	doc.HeadComment = "Written by psasim: points psasync at the simulators of one psasim process,\n" +
		"so it works only while that process runs. Try:\n  psasync sync --config " + path + " --mode full"
	comment(&doc, e.comments())
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return out.Bytes(), nil
}

// comments are the written config's comments by dotted key path.
func (e *Env) comments() map[string]string {
	psaType := e.Config.PSA.Type
	real := quota.Defaults(psaType)
	period := strings.TrimSuffix(strings.TrimSuffix(real.Period.String(), "0s"), "0m")
	realBudget := fmt.Sprintf("%d requests per %s", real.Requests, period)
	if real.MaxConcurrent > 0 {
		realBudget += fmt.Sprintf(", %d at a time", real.MaxConcurrent)
	}
	quotaNote := "The " + psaType + " simulator enforces no request quota, so this budget never makes\n" +
		"psasync wait. A real site needs a budget under its vendor's limits, shared by\n" +
		"every integration there: leave psa.quota out for psasync's " + psaType + " default\n" +
		"(" + realBudget + ")."
	psaNote := ""
	if e.vendorQuota {
		psaNote = "psa.quota is left out: the simulator enforces " + psaType + "'s own limits, as a real\n" +
			"site does, so psasync keeps its real-site default (" + realBudget + ").\n" +
			"Start psasim with --unlimited for a run that is not throttled."
	}
	return map[string]string{
		"log.format":                         "text for a terminal; leave it out for JSON lines (production).",
		"graph":                              "The Graph simulator stands in for Entra ID and Microsoft Graph; a real\ndeployment leaves authority_host, base_url and ca_cert_path out.",
		"graph.ca_cert_path":                 "The Graph simulator's self-signed certificate, written beside this file.",
		"psa":                                psaNote,
		"psa.quota":                          quotaNote,
		"psa.connectwise.company_id":         "The Manage login company; public_key and private_key are an API member's keys.",
		"psa.connectwise.object_id_field_id": "Contact custom field holding the Microsoft 365 object id psasync links by.",
		"psa.connectwise.office_location_field_id": "Contact custom field holding the office location.",
		"psa.connectwise.tenant_id_field":          "Company custom field holding the customer's Microsoft 365 tenant id (onboarding).",
		"psa.autotask.tenant_id_udf":               "Company UDF holding the customer's Microsoft 365 tenant id (onboarding).",
		"psa.autotask.zone_url":                    "The simulator serves every zone itself.",
		"psa.autotask.integration_code":            "The API tracking identifier; Autotask counts its thread limit per code.",
		"psa.autotask.department_udf":              "Contact UDFs for department, office location and contact type:\nAutotask contacts have no native field for them.",
		"psa.halopsa.office_location_field":        "User custom fields for office location and contact type:\nHalo users have no native field for them.",
		"mapping":                                  "Only what differs from the default mapping: every field synced from its\nusual Graph property, guests excluded.",
		"partner":                                  "The simulated MSP's partner tenant: psasync tenants discover lists its customers.",
		"tenants":                                  "Each simulated tenant and the PSA company its users' contacts go to.",
	}
}

// pruneZero removes, below n, every mapping key whose value is a zero
// scalar (empty string, 0, false, 0s, null) or an empty mapping or
// sequence; it reports whether n itself is empty afterwards.
func pruneZero(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			pruneZero(c)
		}
		return n.Kind == yaml.SequenceNode && len(n.Content) == 0
	case yaml.MappingNode:
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !pruneZero(n.Content[i+1]) {
				kept = append(kept, n.Content[i], n.Content[i+1])
			}
		}
		n.Content = kept
		return len(kept) == 0
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return true
		case "!!int", "!!float":
			return n.Value == "0"
		case "!!bool":
			return n.Value == "false"
		case "!!str":
			return n.Value == "" || n.Value == "0s"
		}
	}
	return false
}

// comment sets the head comment of every key of n whose dotted path has
// one in comments; sequences are walked without adding to the path.
func comment(n *yaml.Node, comments map[string]string) {
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := strings.TrimPrefix(path+"."+n.Content[i].Value, ".")
				if text := comments[p]; text != "" {
					n.Content[i].HeadComment = text
				}
				walk(n.Content[i+1], p)
			}
		}
	}
	walk(n, "")
}
