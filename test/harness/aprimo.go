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
	"os"
	"path/filepath"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

// FakeAprimo is a running fake Aprimo token endpoint.
type FakeAprimo struct {
	*aprimotest.Server
	// CAFile is the PEM file of the CA that signed the fake's certificate,
	// for the manager's --ca-file.
	CAFile string
}

// StartFakeAprimo starts the fake on opts.Addr (any free port on 127.0.0.1
// when empty) and writes its CA to dir/aprimo-ca.pem.
func StartFakeAprimo(dir string, opts aprimotest.Options) (*FakeAprimo, func(), error) {
	srv, err := aprimotest.NewServer(opts)
	if err != nil {
		return nil, nil, err
	}
	caFile := filepath.Join(dir, "aprimo-ca.pem")
	if err := os.WriteFile(caFile, srv.CACertPEM(), 0o644); err != nil {
		srv.Close()
		return nil, nil, err
	}
	return &FakeAprimo{Server: srv, CAFile: caFile}, srv.Close, nil
}
