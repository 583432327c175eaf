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

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// ControlPlane is a running kube-apiserver and etcd with the operator's CRDs.
type ControlPlane struct {
	// Config is an admin (system:masters) REST config.
	Config *rest.Config
	// Client is a direct, uncached client of Config that knows core types and
	// AprimoCredential: it sees what a user sees.
	Client client.Client
	// Kubeconfig is the path of an admin kubeconfig file, for the manager and kubectl.
	Kubeconfig string
}

// Scheme knows the core Kubernetes types and the operator's API.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}

// StartControlPlane starts kube-apiserver and etcd from the assets directory,
// installs the CRDs from root/config/crd/bases and writes an admin kubeconfig
// to dir/kubeconfig. The processes run in their own process group, so a Ctrl-C
// in the terminal leaves them to stop, which the caller does last.
func StartControlPlane(root, assets, dir string) (*ControlPlane, func() error, error) {
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	if _, err := env.Start(); err != nil {
		// Start can fail after starting etcd; Stop is safe either way.
		_ = env.Stop()
		return nil, nil, fmt.Errorf("starting the control plane from %s: %w", assets, err)
	}
	cp, err := adminAccess(env, dir)
	if err != nil {
		_ = env.Stop()
		return nil, nil, err
	}
	return cp, env.Stop, nil
}

// adminAccess adds a system:masters user, whose kubeconfig works for kubectl
// as well as for the manager (envtest's own config has no user name).
func adminAccess(env *envtest.Environment, dir string) (*ControlPlane, error) {
	user, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding an admin user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return nil, fmt.Errorf("writing the admin kubeconfig: %w", err)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return nil, err
	}
	c, err := client.New(user.Config(), client.Options{Scheme: Scheme()})
	if err != nil {
		return nil, err
	}
	return &ControlPlane{Config: user.Config(), Client: c, Kubeconfig: path}, nil
}
