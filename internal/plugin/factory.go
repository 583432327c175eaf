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

package plugin

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // exec and OIDC kubeconfig users
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
}

// factory turns the kubeconfig flags into a client and a namespace, as
// cmctl's factory does, and carries what every command shares.
type factory struct {
	genericiooptions.IOStreams
	flags *genericclioptions.ConfigFlags
	clock clock.PassiveClock
	// openBrowser shows a URL to the person at the keyboard; tests play the browser.
	openBrowser func(url string) error
}

// namespace is the namespace of -n, or else of the kubeconfig context.
func (f *factory) namespace() (string, error) {
	ns, _, err := f.flags.ToRawKubeConfigLoader().Namespace()
	return ns, err
}

// client is an uncached client that knows the AprimoCredential types.
func (f *factory) client() (client.Client, error) {
	cfg, err := f.flags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "kubectl-aprimo"
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 20, 30
	}
	// API warnings (deprecations and the like) go to stderr, as kubectl prints them.
	cfg.WarningHandler = rest.NewWarningWriter(f.ErrOut, rest.WarningWriterOptions{Deduplicate: true})
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the API server: %w", err)
	}
	return c, nil
}

// find resolves what a command selected (names, -l, -A, or the namespace) and
// lists those AprimoCredentials; it also returns the client and the selection.
func (f *factory) find(ctx context.Context, allNamespaces bool, names []string, selector string) (client.Client, selection, []v1alpha1.AprimoCredential, error) {
	ns, err := f.namespace()
	if err != nil {
		return nil, selection{}, nil, err
	}
	sel, err := newSelection(ns, allNamespaces, names, selector)
	if err != nil {
		return nil, selection{}, nil, err
	}
	c, err := f.client()
	if err != nil {
		return nil, selection{}, nil, err
	}
	creds, err := sel.find(ctx, c)
	return c, sel, creds, err
}
