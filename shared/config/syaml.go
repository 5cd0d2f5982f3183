package config

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// SYamlVars reads the vars block of a Serverless Devs s.yaml: the names
// (buckets, topic, queue) that setup, the demo and the local cloud share
// with the deployment.
func SYamlVars(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read s.yaml: %w", err)
	}
	var doc struct {
		Vars map[string]string `yaml:"vars"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode s.yaml vars %s: %w", path, err)
	}
	if doc.Vars == nil {
		doc.Vars = map[string]string{}
	}
	return doc.Vars, nil
}
