/*
Copyright 2026 The aprimo-credential-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package harness

import (
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// AuditPolicy logs, at Metadata level (no request or response bodies), every
// write, LIST and WATCH of Secrets, AprimoCredentials and Events, and nothing
// else: what the benchmark needs to count the operator's writes and check
// how it reads Secrets.
const AuditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "list", "watch"]
  resources:
  - {group: "", resources: ["secrets", "events"]}
  - {group: "events.k8s.io", resources: ["events"]}
  - {group: "aprimo.credentials.dev", resources: ["aprimocredentials", "aprimocredentials/status"]}
- level: None
`

// StartControlPlaneWithAuditLog is StartControlPlane with the API server
// writing an audit log of policy to dir/audit.log, whose path it returns.
func StartControlPlaneWithAuditLog(root, assets, dir, policy string) (*ControlPlane, string, func() error, error) {
	policyFile := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policyFile, []byte(policy), 0o600); err != nil {
		return nil, "", nil, err
	}
	logFile := filepath.Join(dir, "audit.log")
	_ = os.Remove(logFile)
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	env.ControlPlane.GetAPIServer().Configure().
		Set("audit-policy-file", policyFile).
		Set("audit-log-path", logFile).
		// One file, however long the run: the benchmark reads it whole.
		Set("audit-log-maxsize", "0")
	if _, err := env.Start(); err != nil {
		_ = env.Stop()
		return nil, "", nil, fmt.Errorf("starting the control plane from %s: %w", assets, err)
	}
	cp, err := adminAccess(env, dir)
	if err != nil {
		_ = env.Stop()
		return nil, "", nil, err
	}
	return cp, logFile, env.Stop, nil
}
