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
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

func testCredential(flow v1alpha1.Flow) *v1alpha1.AprimoCredential {
	c := &v1alpha1.AprimoCredential{}
	c.Namespace, c.Name = "marketing", "dam-reader"
	c.Spec.Flow = flow
	c.Spec.Scopes = []string{"api"}
	c.Spec.ClientSecretRef = v1alpha1.ClientSecretReference{Name: "aprimo-client", ClientIDKey: "client-id", ClientSecretKey: "client-secret"}
	c.Spec.RefreshTokenRef = &v1alpha1.RefreshTokenReference{Name: "aprimo-bootstrap", Key: "refresh-token"}
	c.Spec.UserTokenRef = &v1alpha1.UserTokenReference{Name: "aprimo-user", UsernameKey: "username", UserTokenKey: "user-token"}
	return c
}

func TestFromTokenErrorMapsEveryClass(t *testing.T) {
	tests := map[string]struct {
		class       aprimo.ErrorClass
		flow        v1alpha1.Flow
		wantReason  string
		wantStalled bool
		wantInMsg   string
	}{
		"host not allowed":                {aprimo.ClassHostNotAllowed, v1alpha1.FlowClientCredentials, v1alpha1.ReasonHostNotAllowed, true, "--allowed-token-hosts"},
		"invalid client":                  {aprimo.ClassInvalidClient, v1alpha1.FlowClientCredentials, v1alpha1.ReasonInvalidClient, true, "up to 15 minutes"},
		"invalid client names the Secret": {aprimo.ClassInvalidClient, v1alpha1.FlowClientCredentials, v1alpha1.ReasonInvalidClient, true, "marketing/aprimo-client"},
		"unauthorized client":             {aprimo.ClassUnauthorizedClient, v1alpha1.FlowResourceOwnerPassword, v1alpha1.ReasonUnauthorizedClient, true, "ResourceOwnerPassword"},
		"invalid grant, password flow":    {aprimo.ClassInvalidGrant, v1alpha1.FlowResourceOwnerPassword, v1alpha1.ReasonInvalidGrant, true, "marketing/aprimo-user"},
		"invalid grant, refresh flow":     {aprimo.ClassInvalidGrant, v1alpha1.FlowRefreshToken, v1alpha1.ReasonInvalidGrant, true, "marketing/aprimo-bootstrap"},
		"invalid scope":                   {aprimo.ClassInvalidScope, v1alpha1.FlowClientCredentials, v1alpha1.ReasonInvalidScope, true, `"api"`},
		"rate limited":                    {aprimo.ClassRateLimited, v1alpha1.FlowClientCredentials, v1alpha1.ReasonRateLimited, false, "backoff"},
		"unavailable":                     {aprimo.ClassUnavailable, v1alpha1.FlowClientCredentials, v1alpha1.ReasonEndpointUnavailable, false, "backoff"},
		"invalid response":                {aprimo.ClassInvalidResponse, v1alpha1.FlowClientCredentials, v1alpha1.ReasonInvalidResponse, false, "backoff"},
		"unknown class":                   {"Surprise", v1alpha1.FlowClientCredentials, v1alpha1.ReasonInvalidResponse, false, "backoff"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", &aprimo.Error{Class: tc.class, StatusCode: 400, RetryAfter: 3 * time.Second})
			f := fromTokenError(testCredential(tc.flow), err)
			if f.Reason != tc.wantReason || f.Stalled != tc.wantStalled {
				t.Errorf("got %s stalled=%v, want %s stalled=%v", f.Reason, f.Stalled, tc.wantReason, tc.wantStalled)
			}
			if !strings.Contains(f.Message, tc.wantInMsg) {
				t.Errorf("message %q does not say %q", f.Message, tc.wantInMsg)
			}
			if f.RetryAfter != 3*time.Second {
				t.Errorf("RetryAfter = %v, want 3s", f.RetryAfter)
			}
		})
	}
}

func TestEveryClassHasAReasonOfTheAPI(t *testing.T) {
	for class, c := range classes {
		if c.reason == "" || c.advice == "" {
			t.Errorf("class %s maps to an empty reason or advice", class)
		}
	}
}

func TestChainFailureSaysHowToReseed(t *testing.T) {
	cred := testCredential(v1alpha1.FlowRefreshToken)
	tests := map[string]struct {
		err        error
		wantReason string // "" when the error passes through
		wantInMsg  string
	}{
		"interrupted chain":        {policy.ErrChainInterrupted, v1alpha1.ReasonInvalidGrant, "interrupted"},
		"spent chain":              {policy.ErrChainSpent, v1alpha1.ReasonInvalidGrant, `under key "refresh-token"`},
		"rejected by Aprimo":       {&aprimo.Error{Class: aprimo.ClassInvalidGrant, OAuthError: "invalid_grant", Sent: true, Answered: true}, v1alpha1.ReasonInvalidGrant, "rejected the refresh token"},
		"answer lost":              {&aprimo.Error{Class: aprimo.ClassUnavailable, Sent: true}, v1alpha1.ReasonInvalidGrant, "may have been redeemed"},
		"503 is not a loss":        {&aprimo.Error{Class: aprimo.ClassUnavailable, StatusCode: 503, Sent: true, Answered: true}, "", ""},
		"API error passes through": {errors.New("etcd is sad"), "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := chainFailure(cred, tc.err)
			var f *failure
			if !errors.As(got, &f) {
				if tc.wantReason != "" {
					t.Fatalf("got %v, want a %s failure", got, tc.wantReason)
				}
				return
			}
			if tc.wantReason == "" {
				t.Fatalf("got failure %v, want the error to pass through", f)
			}
			if f.Reason != tc.wantReason || !f.Stalled {
				t.Errorf("got %s stalled=%v", f.Reason, f.Stalled)
			}
			if !strings.Contains(f.Message, tc.wantInMsg) || !strings.Contains(f.Message, "marketing/aprimo-bootstrap") {
				t.Errorf("message %q lacks %q or the bootstrap Secret", f.Message, tc.wantInMsg)
			}
		})
	}
}

func TestStoredTokenDetectsHandEdits(t *testing.T) {
	issued := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	tok := &aprimo.Token{AccessToken: "at-abcdefghijklmnop", TokenType: "bearer", IssuedAt: issued, ExpiresAt: issued.Add(time.Hour)}
	content := contentFromToken(tok, "inputs1", "")
	if got := string(content.data[v1alpha1.AuthorizationKey]); got != "Bearer at-abcdefghijklmnop" {
		t.Fatalf("authorization = %q", got)
	}
	tests := map[string]struct {
		edit      func(data map[string][]byte, ann map[string]string)
		wantValid bool
	}{
		"as written":            {func(map[string][]byte, map[string]string) {}, true},
		"access token replaced": {func(d map[string][]byte, _ map[string]string) { d[v1alpha1.AccessTokenKey] = []byte("x") }, false},
		"expiry moved": {func(d map[string][]byte, _ map[string]string) {
			d[v1alpha1.ExpiresAtKey] = []byte("2099-01-01T00:00:00Z")
		}, false},
		"digest removed":      {func(_ map[string][]byte, a map[string]string) { delete(a, digestAnnotation) }, false},
		"inputs hash edited":  {func(_ map[string][]byte, a map[string]string) { a[inputsAnnotation] = "other" }, false},
		"unrelated key added": {func(d map[string][]byte, _ map[string]string) { d["extra"] = []byte("y") }, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := secretWith(content)
			tc.edit(s.Data, s.Annotations)
			st := parseStoredToken(s)
			if st.valid != tc.wantValid {
				t.Fatalf("valid = %v, want %v", st.valid, tc.wantValid)
			}
			if st.valid && (!st.expiresAt.Equal(tok.ExpiresAt) || !st.issuedAt.Equal(issued) || st.inputs != "inputs1") {
				t.Errorf("parsed %+v", st)
			}
		})
	}
}

func secretWith(c targetContent) *corev1.Secret {
	s := &corev1.Secret{Data: map[string][]byte{}}
	s.Annotations = map[string]string{}
	for k, v := range c.data {
		s.Data[k] = v
	}
	for k, v := range c.annotations {
		s.Annotations[k] = v
	}
	return s
}
