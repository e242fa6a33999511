// Package reporttest checks run reports against the shipped JSON Schema
// (worker/report.schema.json), so every test that gets a report proves it
// keeps the workflow's contract.
package reporttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/psasync/psasync/worker"
)

// Check validates one report, given as JSON bytes or as a value to
// marshal, and returns what breaks the schema.
func Check(report any) error {
	raw, ok := report.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(report); err != nil {
			return fmt.Errorf("encode report: %w", err)
		}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("decode report: %w", err)
	}
	schema, err := compile()
	if err != nil {
		return err
	}
	if err := schema.Validate(doc); err != nil {
		return fmt.Errorf("report does not match worker/report.schema.json: %w", err)
	}
	return nil
}

// Validate fails tb when report does not match the schema.
func Validate(tb testing.TB, report any) {
	tb.Helper()
	if err := Check(report); err != nil {
		tb.Fatal(err)
	}
}

func compile() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(worker.ReportSchema()))
	if err != nil {
		return nil, fmt.Errorf("decode report schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "report.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("load report schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile report schema: %w", err)
	}
	return s, nil
}
