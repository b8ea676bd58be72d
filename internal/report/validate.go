package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rampart-scan/rampart/docs"
)

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// Validate checks a JSON report against docs/report.schema.json.
func Validate(data []byte) error {
	schemaOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(docs.ReportSchema))
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource("report.schema.json", doc); err != nil {
			schemaErr = err
			return
		}
		schema, schemaErr = c.Compile("report.schema.json")
	})
	if schemaErr != nil {
		return fmt.Errorf("report schema: %w", schemaErr)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("report is not JSON: %w", err)
	}
	if err := schema.Validate(inst); err != nil {
		return err
	}
	var probe struct{ Schema string }
	if err := json.Unmarshal(data, &probe); err != nil || probe.Schema != SchemaID {
		return fmt.Errorf("schema field %q", probe.Schema)
	}
	return nil
}

// ValidateSARIF checks a SARIF log against the SARIF 2.1.0 JSON schema in schemaFile.
func ValidateSARIF(data []byte, schemaFile string) error {
	raw, err := os.ReadFile(schemaFile)
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("sarif schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		return err
	}
	sch, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		return fmt.Errorf("sarif schema: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("sarif is not JSON: %w", err)
	}
	return sch.Validate(inst)
}
