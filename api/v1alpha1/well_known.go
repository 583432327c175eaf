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

package v1alpha1

// Labels, annotations and Secret keys that users and workloads rely on.
const (
	// RefreshRequestedAtAnnotation, set on an AprimoCredential to any new value,
	// requests one immediate token refresh per distinct value.
	RefreshRequestedAtAnnotation = GroupName + "/refresh-requested-at"

	// ManagedByLabel and ManagedByValue mark every Secret the operator writes;
	// the operator caches only Secrets carrying them.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "aprimo-credential-operator"
	// CredentialLabel names the AprimoCredential a Secret belongs to.
	CredentialLabel = GroupName + "/credential"

	// Keys of the target Secret.
	AccessTokenKey   = "access_token"
	TokenTypeKey     = "token_type"
	ExpiresAtKey     = "expires_at"
	AuthorizationKey = "authorization"

	// StateSecretSuffix names the operator-owned Secret that holds a refresh-token
	// chain: <metadata.name>-aprimo-state. Workloads never mount it.
	StateSecretSuffix = "-aprimo-state"

	// RevokeFinalizer is set on a LegacyUserToken credential with
	// spec.legacy.revokeOnDelete: on deletion the operator revokes the user's
	// refresh tokens, then removes it.
	RevokeFinalizer = GroupName + "/revoke-legacy-refresh-tokens"
)
