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

package aprimo

import (
	"context"
	"crypto/rand"
	"strings"

	"golang.org/x/oauth2"
)

// AuthorizePath is where a person signs in to Aprimo, under a tenant's base URL.
const AuthorizePath = "/login/connect/authorize"

// ChallengeMethodS256 is the only PKCE method sent. Aprimo's document spells it
// "S265" in one place, a typo: its example and RFC 7636 say S256.
const ChallengeMethodS256 = "S256"

// PKCE is a code verifier and its S256 challenge (RFC 7636 §4.1, §4.2): the
// verifier is 43 characters of A-Z a-z 0-9 - _ from 32 random bytes, the
// challenge the base64url SHA-256 of it.
type PKCE struct {
	Verifier, Challenge string
}

// NewPKCE returns a fresh verifier and its challenge, one per sign-in.
func NewPKCE() PKCE {
	v := oauth2.GenerateVerifier()
	return PKCE{Verifier: v, Challenge: oauth2.S256ChallengeFromVerifier(v)}
}

// NewState returns a random state value (128 bits) that ties a callback to the
// sign-in that started it.
func NewState() string { return rand.Text() }

// AuthorizeRequest is what the authorize URL carries. None of it is secret.
type AuthorizeRequest struct {
	ClientID string
	// RedirectURI must match the registration's Redirect URL exactly.
	RedirectURI string
	State       string
	// CodeChallenge is PKCE.Challenge; the method is always S256.
	CodeChallenge string
	// Scopes must include offline_access for a refresh token.
	Scopes []string
}

// AuthorizeURL returns the URL a person opens to sign in, with the parameters
// in the order Aprimo documents them. base is checked as the token endpoint's
// is (https, allowed host): the code it leads to is exchanged there.
func (c *Client) AuthorizeURL(base string, r AuthorizeRequest) (string, error) {
	u, err := c.baseURL(base, "authorize endpoint")
	if err != nil {
		return "", err
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), TokenPath) + AuthorizePath
	u.RawPath = ""
	u.RawQuery = formBody(
		"response_type", "code",
		"state", r.State,
		"client_id", r.ClientID,
		"redirect_uri", r.RedirectURI,
		"scope", strings.Join(r.Scopes, " "),
		"code_challenge", r.CodeChallenge,
		"code_challenge_method", ChallengeMethodS256,
	)
	return u.String(), nil
}

// AuthorizationCode trades the code a sign-in returned for an access token and,
// with scope offline_access and a registration that allows it, a refresh token.
// The code is single-use: on error see Error.RefreshTokenSpent, which applies
// to it alike.
func (c *Client) AuthorizationCode(ctx context.Context, base, clientID, clientSecret, code, redirectURI, codeVerifier string) (*Token, error) {
	return c.request(ctx, base, tokenRequest{
		body: formBody(
			"grant_type", "authorization_code",
			"code", code,
			"redirect_uri", redirectURI,
			"client_id", clientID,
			"code_verifier", codeVerifier,
			"client_secret", clientSecret,
		),
		secrets: newSecretSet(clientSecret, code, codeVerifier),
	})
}
