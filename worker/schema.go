package worker

import _ "embed"

//go:embed report.schema.json
var reportSchema []byte

// ReportSchema returns the JSON Schema of Report, so integrations and tests
// can check a report against the contract rather than against our structs.
func ReportSchema() []byte { return append([]byte(nil), reportSchema...) }
