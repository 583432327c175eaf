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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// deprecationMessage says what to move to; Aprimo's documents ask integrations
// to plan around the OAuth 2.0 flows.
const deprecationMessage = "Flow LegacyUserToken uses Aprimo's legacy authorization (create-native-token), which Aprimo has deprecated: " +
	"plan to move to the OAuth 2.0 flow ResourceOwnerPassword, which takes the same user name and user token " +
	"(a registration with OAuth Flow Type Resource Owner Password), or ClientCredentials for a single service user. " +
	"Keep LegacyUserToken only where OAuth 2.0 tokens are not accepted, such as the DAM PowerShell upload script."

// markDeprecation sets the Deprecated condition on a LegacyUserToken credential
// and removes it from any other.
func markDeprecation(p *pass) {
	if p.cred.Spec.Flow != v1alpha1.FlowLegacyUserToken {
		meta.RemoveStatusCondition(&p.cred.Status.Conditions, v1alpha1.ConditionDeprecated)
		return
	}
	meta.SetStatusCondition(&p.cred.Status.Conditions, metav1.Condition{
		Type: v1alpha1.ConditionDeprecated, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonLegacyAuthorization,
		Message: deprecationMessage, ObservedGeneration: p.cred.Generation,
	})
}

// emitDeprecation emits a Warning when a credential turns to the legacy flow.
func (r *AprimoCredentialReconciler) emitDeprecation(p *pass) {
	was := meta.IsStatusConditionTrue(p.before.Status.Conditions, v1alpha1.ConditionDeprecated)
	if r.Recorder != nil && !was && meta.IsStatusConditionTrue(p.cred.Status.Conditions, v1alpha1.ConditionDeprecated) {
		r.Recorder.Eventf(p.cred, nil, corev1.EventTypeWarning, v1alpha1.ReasonLegacyAuthorization, "CheckFlow", "%s", deprecationMessage)
	}
}
