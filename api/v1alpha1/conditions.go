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

// Condition types, in the kstatus convention that Flux, kpt and `kubectl wait`
// understand: Ready has positive polarity, Stalled is abnormal-true.
const (
	// ConditionReady is True exactly while the target Secret holds an unexpired token.
	ConditionReady = "Ready"
	// ConditionStalled is True while only a person can fix the credential.
	ConditionStalled = "Stalled"
	// ConditionDeprecated is True while the credential uses an authorization Aprimo
	// has deprecated (flow LegacyUserToken). Abnormal-true, like Stalled.
	ConditionDeprecated = "Deprecated"
)

// Reasons used on the Ready and Stalled conditions and on events.
const (
	// ReasonTokenIssued: the target Secret holds a valid token and the last refresh succeeded.
	ReasonTokenIssued = "TokenIssued"
	// ReasonRefreshFailing: the last refresh failed, but the stored token is still valid.
	ReasonRefreshFailing = "RefreshFailing"
	// ReasonPending: no token has been issued yet.
	ReasonPending = "Pending"
	// ReasonSuspended: spec.suspend is true; nothing is refreshed.
	ReasonSuspended = "Suspended"
	// ReasonHostNotAllowed: the token endpoint's host is not in the operator's --allowed-token-hosts.
	ReasonHostNotAllowed = "HostNotAllowed"
	// ReasonSecretNotFound: a referenced input Secret does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretKeyNotFound: a referenced input Secret lacks a key, or the key is empty.
	ReasonSecretKeyNotFound = "SecretKeyNotFound"
	// ReasonTargetSecretConflict: a Secret with the target's name exists and is not owned by this AprimoCredential.
	ReasonTargetSecretConflict = "TargetSecretConflict"
	// ReasonInvalidClient: Aprimo rejected the client ID or secret.
	ReasonInvalidClient = "InvalidClient"
	// ReasonUnauthorizedClient: the registration may not use this flow.
	ReasonUnauthorizedClient = "UnauthorizedClient"
	// ReasonInvalidGrant: Aprimo rejected the refresh token or user credentials, or the refresh-token chain was lost.
	ReasonInvalidGrant = "InvalidGrant"
	// ReasonInvalidScope: Aprimo rejected a requested scope.
	ReasonInvalidScope = "InvalidScope"
	// ReasonRateLimited: Aprimo answered 429.
	ReasonRateLimited = "RateLimited"
	// ReasonEndpointUnavailable: a 5xx answer, a network error or a timeout.
	ReasonEndpointUnavailable = "EndpointUnavailable"
	// ReasonInvalidResponse: the answer was not a token (HTML, wrong JSON, oversized, a redirect).
	ReasonInvalidResponse = "InvalidResponse"
	// ReasonLegacyAuthorization: flow LegacyUserToken uses Aprimo's legacy
	// authorization, which Aprimo has deprecated (Deprecated condition and a Warning event).
	ReasonLegacyAuthorization = "LegacyAuthorization"
	// ReasonRevoked: on deletion, the Aprimo user's refresh tokens were revoked (spec.legacy.revokeOnDelete).
	ReasonRevoked = "Revoked"
	// ReasonRevokeFailed: on deletion, the revoke call failed; it is retried for a bounded time.
	ReasonRevokeFailed = "RevokeFailed"
	// ReasonRevokeAbandoned: on deletion, the revoke kept failing and the deletion went ahead
	// without it; the user's refresh tokens must be revoked by hand.
	ReasonRevokeAbandoned = "RevokeAbandoned"
	// ReasonRecovered is used on the event emitted when a failing credential works again.
	ReasonRecovered = "Recovered"
)
