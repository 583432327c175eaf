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
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// refreshHint is how to retry at once after fixing a cause.
const refreshHint = "Then `kubectl aprimo refresh {name} -n {namespace} --wait` tries again at once."

// advice says what to do about each condition reason, in the words of
// docs/troubleshooting.md. {name}, {namespace} and {target} are replaced.
var advice = map[string]string{
	v1alpha1.ReasonTokenIssued: "Nothing: Secret {target} holds a valid token and the operator refreshes it before it expires.",
	v1alpha1.ReasonPending: "No token yet; the operator usually issues one within seconds. If it stays Pending, check that the operator is running, " +
		"that it watches namespace {namespace}, and its logs.",
	v1alpha1.ReasonSuspended: "spec.suspend is true, so no token is requested. To resume: " +
		"`kubectl patch aprimocred {name} -n {namespace} --type=merge -p '{\"spec\":{\"suspend\":false}}'`.",
	v1alpha1.ReasonHostNotAllowed: "spec.tenant/spec.url points at a host not in the operator's --allowed-token-hosts. " +
		"Fix the spec, or add the host to the flag.",
	v1alpha1.ReasonSecretNotFound: "Create the Secret the message names, in namespace {namespace}, or fix the name in spec. " +
		"The operator notices within seconds.",
	v1alpha1.ReasonSecretKeyNotFound: "Add the key the message names, or set the key name in spec (clientIDKey, clientSecretKey, key, " +
		"usernameKey, userTokenKey). Values are trimmed; an empty value counts as missing.",
	v1alpha1.ReasonTargetSecretConflict: "A Secret named {target} exists and was not created by this credential. " +
		"Delete or rename it, or set spec.target.name.",
	v1alpha1.ReasonInvalidClient: "Check the client ID and secret. A registration that is new or was just changed can take up to " +
		"15 minutes to become active in Aprimo; the operator retries (30s doubling to 10m) and at once when you edit the client Secret.",
	v1alpha1.ReasonUnauthorizedClient: "The registration's OAuth Flow Type in Aprimo does not match spec.flow: change one to match the other.",
	v1alpha1.ReasonInvalidGrant: "Password and LegacyUserToken flows: check the user name and user token; DistributedMarketing: " +
		"the user name and password. Refresh-token flow: the chain is lost " +
		"(the token expired, was revoked, or a refresh was interrupted); put a new refresh token in the bootstrap Secret and " +
		"the operator starts a new chain at once.",
	v1alpha1.ReasonInvalidScope: "Request only scopes the registration allows (api, reporting-api, offline_access, filestore-access).",
	v1alpha1.ReasonRateLimited: "Transient: Aprimo answered 429 and the operator retries with backoff, honouring Retry-After, " +
		"before the stored token expires. If it persists, look for other clients using the same registration.",
	v1alpha1.ReasonEndpointUnavailable: "Transient: the operator retries with backoff, before the stored token expires. " +
		"If it persists, check egress to the tenant (proxy, firewall, NetworkPolicy, DNS). " + refreshHint,
	v1alpha1.ReasonInvalidResponse: "Transient: the operator retries with backoff. An HTML page usually means a proxy answered " +
		"instead of Aprimo: check HTTPS_PROXY/NO_PROXY and egress to the tenant. " + refreshHint,
	v1alpha1.ReasonRefreshFailing: "The token in Secret {target} still works; the message says until when. " +
		"Fix the reason the refresh fails (below) before then.",
	v1alpha1.ReasonLegacyAuthorization: "Works, but Aprimo has deprecated its legacy authorization: plan the move to the " +
		"OAuth 2.0 flow ResourceOwnerPassword (same user name and user token) or ClientCredentials; see docs/aprimo-flows.md.",
}

// adviceFor says what to do about cred now, most important first.
func adviceFor(cred *v1alpha1.AprimoCredential) []string {
	r := strings.NewReplacer("{name}", cred.Name, "{namespace}", cred.Namespace, "{target}", cred.TargetName())
	ready := meta.FindStatusCondition(cred.Status.Conditions, v1alpha1.ConditionReady)
	if ready == nil {
		return []string{r.Replace("The operator has not reported on this credential yet: check that it is running, " +
			"that it watches namespace {namespace}, and its logs.")}
	}
	var out []string
	out = append(out, r.Replace(adviceForReason(ready.Reason)))
	// While a refresh fails with a valid token left, Stalled carries the cause.
	if stalled := meta.FindStatusCondition(cred.Status.Conditions, v1alpha1.ConditionStalled); ready.Reason == v1alpha1.ReasonRefreshFailing &&
		stalled != nil && stalled.Reason != ready.Reason && stalled.Reason != v1alpha1.ReasonTokenIssued {
		out = append(out, r.Replace(stalled.Reason+": "+adviceForReason(stalled.Reason)))
	}
	if dep := meta.FindStatusCondition(cred.Status.Conditions, v1alpha1.ConditionDeprecated); dep != nil && dep.Status == metav1.ConditionTrue {
		out = append(out, r.Replace(dep.Reason+": "+adviceForReason(dep.Reason)))
	}
	if ready.ObservedGeneration < cred.Generation {
		out = append(out, fmt.Sprintf("The operator has not acted on the latest spec yet (generation %d, Ready is from %d): "+
			"wait a few seconds; if it stays behind, check that the operator is running.", cred.Generation, ready.ObservedGeneration))
	}
	return out
}

func adviceForReason(reason string) string {
	if a, ok := advice[reason]; ok {
		return a
	}
	return fmt.Sprintf("No advice for reason %q: read the condition's message.", reason)
}
