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
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

func TestWithCredentialSelectorCachesOnlyItsShard(t *testing.T) {
	sel, err := labels.Parse("shard=a")
	if err != nil {
		t.Fatal(err)
	}
	opts := WithCredentialSelector(CacheOptions([]string{"team-a"}), sel)
	var credSel, secretSel labels.Selector
	credEntries := 0
	for obj, by := range opts.ByObject {
		switch obj.(type) {
		case *v1alpha1.AprimoCredential:
			credSel = by.Label
			credEntries++
			if by.Transform == nil {
				t.Errorf("the AprimoCredentials' transform was lost")
			}
		default:
			secretSel = by.Label
		}
	}
	if credEntries != 1 {
		t.Errorf("%d cache entries for AprimoCredentials, want 1", credEntries)
	}
	if credSel == nil || credSel.String() != "shard=a" {
		t.Errorf("AprimoCredential selector = %v, want shard=a", credSel)
	}
	if secretSel == nil || !secretSel.Matches(labels.Set{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue}) {
		t.Errorf("the operator's Secret selector was lost: %v", secretSel)
	}
	if _, ok := opts.DefaultNamespaces["team-a"]; !ok || len(opts.DefaultNamespaces) != 1 {
		t.Errorf("namespaces = %v, want team-a only", opts.DefaultNamespaces)
	}

	for obj, by := range WithCredentialSelector(CacheOptions(nil), labels.Everything()).ByObject {
		if _, ok := obj.(*v1alpha1.AprimoCredential); ok && by.Label != nil {
			t.Errorf("an empty selector added a cache restriction: %v", by.Label)
		}
	}
}
