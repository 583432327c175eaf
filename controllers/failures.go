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
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
)

// failure is a reason the credential cannot get or keep a token, in the words
// of its conditions. Its message says what to do and never holds a secret.
type failure struct {
	Reason     string
	Stalled    bool // only a person can fix it
	Message    string
	RetryAfter time.Duration
	// NextAttempt, when set, is the next attempt of the Aprimo client the
	// credential shares (sharedtokens.go), instead of its own backoff.
	NextAttempt time.Time
}

func (f *failure) Error() string { return f.Reason + ": " + f.Message }

// orNil returns f as an error, and a nil error (not a typed nil) for a nil f.
func (f *failure) orNil() error {
	if f == nil {
		return nil
	}
	return f
}

func stalled(reason, format string, args ...any) *failure {
	return &failure{Reason: reason, Stalled: true, Message: fmt.Sprintf(format, args...)}
}

// classes maps each class of Aprimo error to a condition reason, whether it
// stalls the credential, and what to do about it. This is the one table.
var classes = map[aprimo.ErrorClass]struct {
	reason  string
	stalled bool
	advice  string
}{
	aprimo.ClassHostNotAllowed: {v1alpha1.ReasonHostNotAllowed, true,
		"Add the host to the operator's --allowed-token-hosts, or correct spec.tenant or spec.url."},
	aprimo.ClassInvalidClient: {v1alpha1.ReasonInvalidClient, true,
		"Check the client ID and client secret in Secret %s. A new or changed Aprimo registration can take up to 15 minutes to become active."},
	aprimo.ClassUnauthorizedClient: {v1alpha1.ReasonUnauthorizedClient, true,
		"The Aprimo registration does not allow this flow: set its OAuth Flow Type to match spec.flow (%s)."},
	aprimo.ClassInvalidGrant: {v1alpha1.ReasonInvalidGrant, true,
		"Aprimo rejected the grant: %s."},
	aprimo.ClassInvalidScope: {v1alpha1.ReasonInvalidScope, true,
		"Aprimo rejected the requested scopes %q: check spec.scopes against what the registration allows."},
	aprimo.ClassRateLimited: {v1alpha1.ReasonRateLimited, false,
		"Aprimo is rate limiting token requests; retrying with backoff."},
	aprimo.ClassUnavailable: {v1alpha1.ReasonEndpointUnavailable, false,
		"The token endpoint could not be reached or failed; retrying with backoff."},
	aprimo.ClassInvalidResponse: {v1alpha1.ReasonInvalidResponse, false,
		"The token endpoint did not answer with a token; retrying with backoff."},
}

// fromTokenError turns an error of a token request into a failure.
func fromTokenError(cred *v1alpha1.AprimoCredential, err error) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	var ae *aprimo.Error
	if !errors.As(err, &ae) {
		return &failure{Reason: v1alpha1.ReasonEndpointUnavailable, Message: "Token request failed: " + err.Error()}
	}
	c, ok := classes[ae.Class]
	if !ok {
		c = classes[aprimo.ClassInvalidResponse]
	}
	advice := c.advice
	switch ae.Class {
	case aprimo.ClassInvalidClient:
		advice = fmt.Sprintf(advice, cred.Namespace+"/"+cred.Spec.ClientSecretRef.Name)
	case aprimo.ClassUnauthorizedClient:
		advice = fmt.Sprintf(advice, cred.Spec.Flow)
		if ae.OAuthError == "invalid_request" {
			advice = "Aprimo found the request malformed: check spec.scopes, and the values in the referenced Secrets for stray characters."
		}
	case aprimo.ClassInvalidGrant:
		advice = fmt.Sprintf(advice, grantAdvice(cred))
	case aprimo.ClassInvalidScope:
		advice = fmt.Sprintf(advice, strings.Join(cred.Spec.Scopes, " "))
	}
	return &failure{
		Reason:     c.reason,
		Stalled:    c.stalled,
		Message:    ae.Error() + ". " + advice,
		RetryAfter: ae.RetryAfter,
	}
}

// grantAdvice says how to fix a rejected grant for each flow.
func grantAdvice(cred *v1alpha1.AprimoCredential) string {
	switch cred.Spec.Flow {
	case v1alpha1.FlowRefreshToken:
		return reseedAdvice(cred)
	case v1alpha1.FlowResourceOwnerPassword:
		return fmt.Sprintf("check the user name and user token in Secret %s/%s", cred.Namespace, cred.Spec.UserTokenRef.Name)
	case v1alpha1.FlowDistributedMarketing:
		return fmt.Sprintf("check the user name and password in Secret %s/%s, and that the client ID is the Client ID of an Aprimo DM integration", cred.Namespace, cred.Spec.UserTokenRef.Name)
	case v1alpha1.FlowLegacyUserToken:
		return fmt.Sprintf("check the user name and user token in Secret %s/%s (a new one: in Aprimo, User > User Token > Generate), and that the registration's OAuth Flow Type is None", cred.Namespace, cred.Spec.UserTokenRef.Name)
	default:
		return "check the registration in Aprimo"
	}
}

// reseedAdvice tells a person how to start a lost refresh-token chain again.
func reseedAdvice(cred *v1alpha1.AprimoCredential) string {
	return fmt.Sprintf("the refresh-token chain is lost: get a new refresh token (the Authorization Code with PKCE flow) and put it in Secret %s/%s under key %q; the operator starts a new chain from it at once",
		cred.Namespace, cred.Spec.RefreshTokenRef.Name, cred.Spec.RefreshTokenRef.Key)
}
