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
	"cmp"
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// selection says which AprimoCredentials a command acts on: the named ones in
// one namespace, or all those matching a label selector in one namespace or in
// all of them.
type selection struct {
	namespace string // "" with --all-namespaces
	names     []string
	selector  labels.Selector
}

// newSelection checks the selector and returns the selection.
func newSelection(namespace string, allNamespaces bool, names []string, selector string) (selection, error) {
	s := selection{namespace: namespace, names: names, selector: labels.Everything()}
	if allNamespaces {
		s.namespace = ""
	}
	if selector != "" {
		sel, err := labels.Parse(selector)
		if err != nil {
			return s, fmt.Errorf("invalid label selector %q: %w", selector, err)
		}
		s.selector = sel
	}
	return s, nil
}

// find returns the selected AprimoCredentials, sorted by namespace and name.
// A name that does not exist is an error.
func (s selection) find(ctx context.Context, c client.Reader) ([]v1alpha1.AprimoCredential, error) {
	found, err := s.current(ctx, c)
	if err != nil {
		return nil, err
	}
	for _, name := range s.names {
		if _, ok := found[types.NamespacedName{Namespace: s.namespace, Name: name}]; !ok {
			return nil, fmt.Errorf("AprimoCredential %q not found in namespace %q", name, s.namespace)
		}
	}
	return sorted(found), nil
}

// current returns the selected AprimoCredentials that exist now, by key.
func (s selection) current(ctx context.Context, c client.Reader) (map[types.NamespacedName]*v1alpha1.AprimoCredential, error) {
	found := map[types.NamespacedName]*v1alpha1.AprimoCredential{}
	if len(s.names) > 0 {
		for _, name := range s.names {
			key := types.NamespacedName{Namespace: s.namespace, Name: name}
			cred := &v1alpha1.AprimoCredential{}
			if err := c.Get(ctx, key, cred); err != nil {
				if apierrors.IsNotFound(err) {
					continue // find reports it; a wait reports it deleted
				}
				return nil, explain(err)
			}
			found[key] = cred
		}
		return found, nil
	}
	list := &v1alpha1.AprimoCredentialList{}
	if err := c.List(ctx, list, client.InNamespace(s.namespace), client.MatchingLabelsSelector{Selector: s.selector}); err != nil {
		return nil, explain(err)
	}
	for i := range list.Items {
		found[client.ObjectKeyFromObject(&list.Items[i])] = &list.Items[i]
	}
	return found, nil
}

// where says where the selection looked, for "nothing found" messages.
func (s selection) where() string {
	in := "in all namespaces"
	if s.namespace != "" {
		in = fmt.Sprintf("in namespace %q", s.namespace)
	}
	if !s.selector.Empty() {
		in += fmt.Sprintf(" matching %q", s.selector.String())
	}
	return in
}

func sorted(m map[types.NamespacedName]*v1alpha1.AprimoCredential) []v1alpha1.AprimoCredential {
	out := make([]v1alpha1.AprimoCredential, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b v1alpha1.AprimoCredential) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// explain turns the errors a user meets first into ones that say what to do.
func explain(err error) error {
	if meta.IsNoMatchError(err) {
		return fmt.Errorf("the AprimoCredential API (aprimocredentials.%s) is not installed in this cluster: install the operator's CRD first (make install, or the operator's manifests): %w", v1alpha1.GroupVersion.Group, err)
	}
	return err
}
