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

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Flow names the Aprimo OAuth 2.0 flow used to get access tokens.
// +kubebuilder:validation:Enum=ClientCredentials;RefreshToken;ResourceOwnerPassword;DistributedMarketing;LegacyUserToken
type Flow string

const (
	// FlowClientCredentials acts as the user set on the Aprimo registration.
	FlowClientCredentials Flow = "ClientCredentials"
	// FlowRefreshToken follows a rotating refresh-token chain seeded by a bootstrap token.
	FlowRefreshToken Flow = "RefreshToken"
	// FlowResourceOwnerPassword acts as a user, with their user name and user token.
	FlowResourceOwnerPassword Flow = "ResourceOwnerPassword"
	// FlowDistributedMarketing gets Aprimo DM (Distributed Marketing) tokens with a
	// user name and password, from https://auth.aprimodm.com unless spec.url says otherwise.
	FlowDistributedMarketing Flow = "DistributedMarketing"
	// FlowLegacyUserToken is Aprimo's legacy (pre-OAuth 2.0) authorization for services:
	// create-native-token with a user name and user token, renewed with /api/token.
	// Deprecated by Aprimo.
	FlowLegacyUserToken Flow = "LegacyUserToken"
)

// DistributedMarketingBaseURL is where flow DistributedMarketing gets tokens when spec.url is not set.
const DistributedMarketingBaseURL = "https://auth.aprimodm.com"

// AprimoCredentialSpec says where and how to get Aprimo access tokens, and where to put them.
// +kubebuilder:validation:XValidation:rule="self.flow == 'DistributedMarketing' || has(self.tenant) != has(self.url)",message="set exactly one of spec.tenant (e.g. acme) and spec.url (e.g. https://acme.aprimo.com)"
// +kubebuilder:validation:XValidation:rule="self.flow != 'DistributedMarketing' || !has(self.tenant)",message="spec.tenant is not used by flow DistributedMarketing, whose tokens come from https://auth.aprimodm.com: remove spec.tenant (set spec.url only for another Aprimo DM auth host)"
// +kubebuilder:validation:XValidation:rule="self.flow != 'RefreshToken' || has(self.refreshTokenRef)",message="spec.refreshTokenRef is required when spec.flow is RefreshToken: name the Secret holding the bootstrap refresh token"
// +kubebuilder:validation:XValidation:rule="!(self.flow in ['ResourceOwnerPassword', 'DistributedMarketing', 'LegacyUserToken']) || has(self.userTokenRef)",message="spec.userTokenRef is required when spec.flow is ResourceOwnerPassword, DistributedMarketing or LegacyUserToken: name the Secret holding the user name and the user token (the password for DistributedMarketing)"
// +kubebuilder:validation:XValidation:rule="!has(self.refreshTokenRef) || self.flow == 'RefreshToken'",message="spec.refreshTokenRef is only used by flow RefreshToken; remove it or set spec.flow: RefreshToken"
// +kubebuilder:validation:XValidation:rule="!has(self.userTokenRef) || self.flow in ['ResourceOwnerPassword', 'DistributedMarketing', 'LegacyUserToken']",message="spec.userTokenRef is only used by flows ResourceOwnerPassword, DistributedMarketing and LegacyUserToken; remove it or set one of those flows"
// +kubebuilder:validation:XValidation:rule="!has(self.legacy) || self.flow == 'LegacyUserToken'",message="spec.legacy is only used by flow LegacyUserToken; remove it or set spec.flow: LegacyUserToken"
type AprimoCredentialSpec struct {
	// tenant is the Aprimo tenant name; tokens come from
	// https://<tenant>.aprimo.com/login/connect/token. Set exactly one of tenant and url,
	// except for flow DistributedMarketing, which does not use tenant (it is rejected).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="spec.tenant must be a DNS label: lower-case letters, digits and '-', e.g. acme for acme.aprimo.com"
	Tenant string `json:"tenant,omitempty"`

	// url is the base URL of the Aprimo tenant, for example https://acme.aprimo.com;
	// tokens come from <url>/login/connect/token (flow LegacyUserToken:
	// <url>/api/oauth/create-native-token and <url>/api/token). Only https is
	// accepted. Set exactly one of tenant and url. For flow DistributedMarketing url
	// is optional: tokens come from <url>/api/v1.0/token, by default
	// https://auth.aprimodm.com. The host must also be allowed by the operator's
	// --allowed-token-hosts.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('https://') && self.size() > 8",message="spec.url must be an https:// URL, e.g. https://acme.aprimo.com"
	// +kubebuilder:validation:XValidation:rule="!self.contains('@') && !self.contains('?') && !self.contains('#')",message="spec.url must be a plain base URL without user info, query or fragment"
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != ''",message="spec.url must be a valid https URL with a host name, e.g. https://acme.aprimo.com"
	URL string `json:"url,omitempty"`

	// flow is how tokens are obtained: ClientCredentials (default; acts as the user set
	// on the registration), RefreshToken (follows a rotating refresh-token chain started
	// from refreshTokenRef) or ResourceOwnerPassword (a user name and user token from
	// userTokenRef), all OAuth 2.0 flows that must match the registration's OAuth Flow
	// Type in Aprimo; DistributedMarketing (Aprimo DM: a user name and password from
	// userTokenRef, no client secret); or LegacyUserToken (Aprimo's deprecated legacy
	// authorization, registration OAuth Flow Type None: a user name and user token from
	// userTokenRef, no client secret; only for integrations that cannot use OAuth 2.0
	// tokens, such as the DAM PowerShell upload script).
	// +optional
	// +kubebuilder:default=ClientCredentials
	Flow Flow `json:"flow,omitempty"`

	// scopes are requested space-separated; default [api]. Aprimo knows api,
	// reporting-api, offline_access (a refresh token with ResourceOwnerPassword) and
	// filestore-access. Not sent by the RefreshToken flow, whose scopes are those of
	// the bootstrap token.
	// +optional
	// +kubebuilder:default={api}
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^[!#-\[\]-~]+$`
	// +listType=set
	Scopes []string `json:"scopes,omitempty"`

	// clientSecretRef names the Secret, in the same namespace, that holds the
	// client ID and client secret of the Aprimo registration. Flows
	// DistributedMarketing and LegacyUserToken read only the client ID.
	// +required
	ClientSecretRef ClientSecretReference `json:"clientSecretRef"`

	// refreshTokenRef names the Secret holding the bootstrap refresh token. Required
	// for, and only used by, flow RefreshToken. The operator never writes to it: it
	// keeps the live token of the rotating chain in its own Secret
	// <metadata.name>-aprimo-state. A refresh token put here that the chain has not
	// seen starts a new chain at once; one it has seen is never sent again. Once a
	// chain runs, this Secret may be deleted.
	// +optional
	RefreshTokenRef *RefreshTokenReference `json:"refreshTokenRef,omitempty"`

	// userTokenRef names the Secret holding the Aprimo user name and user token
	// (for flow DistributedMarketing: the user name and password). Required for,
	// and only used by, flows ResourceOwnerPassword, DistributedMarketing and
	// LegacyUserToken.
	// +optional
	UserTokenRef *UserTokenReference `json:"userTokenRef,omitempty"`

	// legacy holds settings of flow LegacyUserToken only.
	// +optional
	Legacy *LegacySettings `json:"legacy,omitempty"`

	// target describes the Secret the access token is written to.
	// +optional
	Target TargetSecret `json:"target,omitzero"`

	// renewBefore is how long before expiry the token is refreshed at the latest.
	// Default: one third of the lifetime Aprimo granted. Clamped to between 10s
	// and 90% of that lifetime. Refreshes are spread over up to 20% of the
	// lifetime earlier than that (a credential's first token wider), at a
	// point fixed per credential and token, so that many credentials do not
	// come due in the same second; a token is always held for 5% of its
	// lifetime at least.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="spec.renewBefore must be a positive duration such as 10m"
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`

	// suspend stops all token requests while true. The target Secret is kept.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ClientSecretReference names a Secret with the client ID and client secret.
type ClientSecretReference struct {
	// name of the Secret, in the AprimoCredential's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// clientIDKey is the key holding the client ID. Default client-id.
	// +optional
	// +kubebuilder:default=client-id
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	ClientIDKey string `json:"clientIDKey,omitempty"`

	// clientSecretKey is the key holding the client secret. Default client-secret.
	// Not read by flows DistributedMarketing and LegacyUserToken, which send no
	// client secret, so the Secret may lack this key for them.
	// +optional
	// +kubebuilder:default=client-secret
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	ClientSecretKey string `json:"clientSecretKey,omitempty"`
}

// RefreshTokenReference names a Secret with a bootstrap refresh token.
type RefreshTokenReference struct {
	// name of the Secret, in the AprimoCredential's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// key holding the refresh token. Default refresh-token.
	// +optional
	// +kubebuilder:default=refresh-token
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key,omitempty"`
}

// UserTokenReference names a Secret with an Aprimo user name and user token.
type UserTokenReference struct {
	// name of the Secret, in the AprimoCredential's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// usernameKey is the key holding the user name. Default username.
	// +optional
	// +kubebuilder:default=username
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	UsernameKey string `json:"usernameKey,omitempty"`

	// userTokenKey is the key holding the user token (from the user menu in
	// Aprimo, sent as the password; for flow DistributedMarketing the user's
	// Aprimo DM password). Default user-token.
	// +optional
	// +kubebuilder:default=user-token
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	UserTokenKey string `json:"userTokenKey,omitempty"`
}

// LegacySettings are settings of flow LegacyUserToken.
// +kubebuilder:validation:XValidation:rule="!self.revokeOnDelete || has(self.userID)",message="spec.legacy.userID is required when spec.legacy.revokeOnDelete is true: the revoke call names the Aprimo user whose refresh tokens it revokes"
type LegacySettings struct {
	// revokeOnDelete, when true, calls DELETE <base>/api/oauth/revoke/<userID> when
	// the AprimoCredential is deleted (through a finalizer). This revokes ALL refresh
	// tokens of that Aprimo user, not only this credential's: every other
	// integration and credential of the same user loses its refresh tokens too
	// (this operator's own LegacyUserToken credentials recover by themselves with a
	// new create-native-token call). A failed revoke is reported in an event and
	// retried; it never holds up the deletion for more than about three minutes.
	// Default false.
	// +optional
	RevokeOnDelete bool `json:"revokeOnDelete,omitempty"`

	// userID is the Aprimo user ID of the user in userTokenRef, as the revoke call
	// takes it. Required when revokeOnDelete is true.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// Letters, digits and - . _ @, not starting with a dot (so never "." or
	// "..", which would change the revoke URL's path).
	// +kubebuilder:validation:Pattern=`^[-_@a-zA-Z0-9][-._@a-zA-Z0-9]*$`
	UserID string `json:"userID,omitempty"`
}

// TargetSecret describes the Secret the operator writes the token to. It holds
// access_token, token_type, expires_at (RFC 3339, UTC) and authorization
// ("Bearer <token>", ready for an HTTP header).
type TargetSecret struct {
	// name of the Secret. Default: the AprimoCredential's name. A Secret of that
	// name that this AprimoCredential does not own is never overwritten.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="spec.target.name must be a valid Secret name (a DNS subdomain)"
	Name string `json:"name,omitempty"`

	// labels are copied onto the target Secret. Keys and values must be valid
	// Kubernetes label keys and values. app.kubernetes.io/managed-by and keys
	// under aprimo.credentials.dev/ are set by the operator and cannot be set here.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !format.qualifiedName().validate(k).hasValue())",message="spec.target.labels keys must be valid label keys: an optional DNS subdomain prefix and '/', then a name of at most 63 letters, digits, '-', '_' or '.' that starts and ends with a letter or digit, e.g. example.com/team"
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(self[k]) <= 63)",message="spec.target.labels values must be at most 63 characters, the limit of a label value"
	// +kubebuilder:validation:XValidation:rule="self.all(k, k != 'app.kubernetes.io/managed-by' && !k.startsWith('aprimo.credentials.dev/'))",message="spec.target.labels must not set app.kubernetes.io/managed-by or keys under aprimo.credentials.dev/: the operator sets them on the Secrets it writes"
	Labels map[string]string `json:"labels,omitempty"`

	// annotations are copied onto the target Secret. Keys must be valid
	// Kubernetes annotation keys; keys under aprimo.credentials.dev/ are set by
	// the operator and cannot be set here.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !format.qualifiedName().validate(k).hasValue())",message="spec.target.annotations keys must be valid annotation keys: an optional DNS subdomain prefix and '/', then a name of at most 63 letters, digits, '-', '_' or '.' that starts and ends with a letter or digit, e.g. example.com/owner"
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('aprimo.credentials.dev/'))",message="spec.target.annotations must not set keys under aprimo.credentials.dev/: the operator sets them on the Secrets it writes"
	Annotations map[string]string `json:"annotations,omitempty"`
}

// AprimoCredentialStatus reports the token the target Secret holds and what is wrong, if anything.
type AprimoCredentialStatus struct {
	// observedGeneration is the generation of the spec the last completed pass acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready (True exactly while the target Secret holds an unexpired
	// token) and Stalled (True while only a person can fix the credential).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// expiresAt is when the token in the target Secret expires.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// renewalTime is when the next token request is due: the planned refresh, or
	// the next retry after a failure.
	// +optional
	RenewalTime *metav1.Time `json:"renewalTime,omitempty"`

	// lastRefreshTime is when the token in the target Secret was requested.
	// +optional
	LastRefreshTime *metav1.Time `json:"lastRefreshTime,omitempty"`

	// failedAttempts counts failed attempts since the last success: token requests
	// that failed, and passes that found the credential unusable (a missing
	// Secret, a lost refresh-token chain).
	// +optional
	FailedAttempts int32 `json:"failedAttempts,omitempty"`

	// lastFailureTime is when the last token request failed.
	// +optional
	LastFailureTime *metav1.Time `json:"lastFailureTime,omitempty"`

	// lastRefreshRequest is the last value of the
	// aprimo.credentials.dev/refresh-requested-at annotation that was acted on.
	// +optional
	LastRefreshRequest string `json:"lastRefreshRequest,omitempty"`
}

// AprimoCredential keeps a valid Aprimo access token in a Secret, refreshing it
// before it expires.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=aprimocred,categories=aprimo
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.status.expiresAt`
// +kubebuilder:printcolumn:name="Next Refresh",type=string,JSONPath=`.status.renewalTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name must be at most 63 characters: it is the value of the label aprimo.credentials.dev/credential on the Secrets the operator writes"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.target) || !has(self.spec.target.name) || self.spec.target.name != self.metadata.name + '-aprimo-state'",message="spec.target.name must not be <metadata.name>-aprimo-state, the operator's own state Secret"
type AprimoCredential struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec says where and how to get tokens, and where to put them.
	// +required
	Spec AprimoCredentialSpec `json:"spec"`

	// status reports the current token and any failure.
	// +optional
	Status AprimoCredentialStatus `json:"status,omitzero"`
}

// AprimoCredentialList is a list of AprimoCredentials.
// +kubebuilder:object:root=true
type AprimoCredentialList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []AprimoCredential `json:"items"`
}

// TargetName is the name of the Secret the token is written to.
func (c *AprimoCredential) TargetName() string {
	if c.Spec.Target.Name != "" {
		return c.Spec.Target.Name
	}
	return c.Name
}

// TokenEndpoint is the base URL tokens are requested from: spec.url, else
// Aprimo DM's for that flow, else the tenant's.
func (c *AprimoCredential) TokenEndpoint() string {
	switch {
	case c.Spec.URL != "":
		return strings.TrimRight(c.Spec.URL, "/")
	case c.Spec.Flow == FlowDistributedMarketing:
		return DistributedMarketingBaseURL
	}
	return "https://" + c.Spec.Tenant + ".aprimo.com"
}

// UsesClientSecret: Aprimo DM and the legacy authorization send only a client ID.
func (f Flow) UsesClientSecret() bool {
	return f != FlowDistributedMarketing && f != FlowLegacyUserToken
}

// UsesUserToken: the flows that act as a user, with userTokenRef.
func (f Flow) UsesUserToken() bool {
	return f == FlowResourceOwnerPassword || f == FlowDistributedMarketing || f == FlowLegacyUserToken
}

// StateSecretName is the name of the operator-owned Secret holding a refresh-token chain.
func (c *AprimoCredential) StateSecretName() string {
	return c.Name + StateSecretSuffix
}
