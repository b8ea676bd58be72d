// Package docs holds Rampart's documentation files that code and tests read.
package docs

import _ "embed"

// ReportSchema is the JSON Schema of rampart.report/v1 (CONTRACTS §5).
//
//go:embed report.schema.json
var ReportSchema []byte
