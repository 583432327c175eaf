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

package controllers

import (
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// WithCredentialSelector restricts a manager's cache to the AprimoCredentials
// that match selector (--credential-selector), so several operator
// Deployments can split one cluster's credentials between them: each caches,
// watches and reconciles only its own shard, and never even receives the
// others' objects. An empty selector changes nothing.
func WithCredentialSelector(opts cache.Options, selector labels.Selector) cache.Options {
	if selector == nil || selector.Empty() {
		return opts
	}
	if opts.ByObject == nil {
		opts.ByObject = map[client.Object]cache.ByObject{}
	}
	for o, b := range opts.ByObject {
		if _, ok := o.(*v1alpha1.AprimoCredential); ok { // keep its other options (the transform)
			b.Label = selector
			opts.ByObject[o] = b
			return opts
		}
	}
	opts.ByObject[&v1alpha1.AprimoCredential{}] = cache.ByObject{Label: selector}
	return opts
}
