package spec

import (
	yaml "go.yaml.in/yaml/v4"
)

// unmarshalAny decodes YAML or JSON (JSON is YAML) into v.
func unmarshalAny(data []byte, v any) error {
	return yaml.Unmarshal(data, v)
}
