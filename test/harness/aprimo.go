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
