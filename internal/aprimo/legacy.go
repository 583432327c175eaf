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
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Aprimo's legacy authorization ("Aprimo Authorization", deprecated by Aprimo),
// under a tenant's base URL.
const (
	LegacyNativeTokenPath = "/api/oauth/create-native-token"
	LegacyRefreshPath     = "/api/token"
	LegacyRevokePath      = "/api/oauth/revoke/"
)

// LegacyAccessTokenLifetime is the documented default lifetime of a legacy access
// token, assumed when the answer gives none.
const LegacyAccessTokenLifetime = 10 * time.Minute

// LegacyNativeToken gets an access token and a refresh token for a user with the
// user's user token: POST create-native-token with the client ID in a client-id
// header and Basic base64(user name:user token). A 401 answer means the client ID,
// user name or user token was refused (ClassInvalidGrant).
func (c *Client) LegacyNativeToken(ctx context.Context, base, clientID, username, userToken string) (*Token, error) {
	tok, err := c.request(ctx, base, tokenRequest{
		path:        LegacyNativeTokenPath,
		contentType: "application/json",
		header:      http.Header{"client-id": {clientID}},
		basicUser:   username,
		basicPass:   userToken,
		parse:       parseLegacyTokenResponse,
		secrets:     newSecretSet(userToken),
	})
	var e *Error
	if errors.As(err, &e) && e.StatusCode == http.StatusUnauthorized && e.OAuthError == "" {
		e.Class = ClassInvalidGrant
		e.msg = fmt.Sprintf("%s answered HTTP 401: the client ID, user name or user token was refused", LegacyNativeTokenPath)
		if e.Expired {
			e.msg += " (an empty body: the user token may have expired)"
		}
	}
	return tok, err
}

// LegacyRefresh gets a new access token with a legacy refresh token: POST /api/token
// with a client-id header and {"refreshToken": "…"}. A legacy refresh token is not
// single-use: it gets access tokens for 7 days. A refusal (any 4xx but 429) is
// ClassInvalidGrant; Error.Expired says the refresh token has expired.
func (c *Client) LegacyRefresh(ctx context.Context, base, clientID, refreshToken string) (*Token, error) {
	body, _ := json.Marshal(map[string]string{"refreshToken": refreshToken})
	tok, err := c.request(ctx, base, tokenRequest{
		path:        LegacyRefreshPath,
		contentType: "application/json",
		header:      http.Header{"client-id": {clientID}},
		body:        string(body),
		parse:       parseLegacyTokenResponse,
		secrets:     newSecretSet(refreshToken),
	})
	var e *Error
	if errors.As(err, &e) && e.Answered && e.StatusCode >= 400 && e.StatusCode < 500 && e.StatusCode != http.StatusTooManyRequests {
		e.Class = ClassInvalidGrant
		switch {
		case e.Expired:
			e.msg = fmt.Sprintf("%s answered HTTP 401 with an empty body: the legacy refresh token has expired", LegacyRefreshPath)
		case e.OAuthError == "":
			e.msg = fmt.Sprintf("%s answered HTTP %d: the legacy refresh token was refused", LegacyRefreshPath, e.StatusCode)
		}
	}
	return tok, err
}

// LegacyRevoke revokes all refresh tokens of an Aprimo user: DELETE
// /api/oauth/revoke/{userID}, as that user (or an administrator), with an access
// token of the legacy flow. Any 2xx is success.
func (c *Client) LegacyRevoke(ctx context.Context, base, clientID, accessToken, userID string) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	_, err := c.exchange(ctx, base, tokenRequest{
		method:  http.MethodDelete,
		path:    LegacyRevokePath + url.PathEscape(userID),
		header:  http.Header{"client-id": {clientID}, "Authorization": {"Bearer " + accessToken}},
		secrets: newSecretSet(accessToken),
	}, true)
	var e *Error
	if errors.As(err, &e) && e.Expired {
		e.msg = fmt.Sprintf("%s answered HTTP 401 with an empty body: the access token has expired", LegacyRevokePath)
	}
	return err
}

// parseLegacyTokenResponse reads a legacy answer. Aprimo's documents do not show
// one, so both spellings are accepted: accessToken/refreshToken and
// access_token/refresh_token (and expiresIn/expires_in). The lifetime is expires_in
// when given, else the access token's JWT exp claim, else the documented 10 minutes.
func parseLegacyTokenResponse(body []byte, issuedAt time.Time) (tokenAnswer, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return tokenAnswer{}, errors.New("the body is not a JSON object")
	}
	pick := func(names ...string) (json.RawMessage, string) {
		for _, n := range names {
			if v, ok := raw[n]; ok && len(v) > 0 && string(v) != "null" {
				return v, n
			}
		}
		return nil, names[0]
	}
	var a tokenAnswer
	var err error
	v, name := pick("accessToken", "access_token")
	if a.accessToken, err = optionalString(name, v); err != nil {
		return tokenAnswer{}, err
	}
	switch {
	case a.accessToken == "":
		return tokenAnswer{}, errors.New("accessToken (or access_token) is missing or empty")
	case !isBearerToken(a.accessToken):
		return tokenAnswer{}, errors.New("the access token has characters a bearer token cannot have")
	}
	v, name = pick("refreshToken", "refresh_token")
	if a.refreshToken, err = optionalString(name, v); err != nil {
		return tokenAnswer{}, err
	}
	if !isVisibleASCII(a.refreshToken) {
		return tokenAnswer{}, errors.New("the refresh token has characters a refresh token cannot have")
	}
	v, name = pick("tokenType", "token_type")
	if a.tokenType, err = optionalString(name, v); err != nil {
		return tokenAnswer{}, err
	}
	if a.tokenType == "" {
		a.tokenType = "Bearer"
	}
	if v, _ = pick("expiresIn", "expires_in"); v != nil {
		if a.lifetime, err = parseExpiresIn(v); err != nil {
			return tokenAnswer{}, err
		}
		return a, nil
	}
	if exp, ok := JWTExpiry(a.accessToken, issuedAt); ok {
		a.lifetime = min(exp.Sub(issuedAt), maxLifetime) // as for expires_in
		return a, nil
	}
	a.lifetime = LegacyAccessTokenLifetime
	return a, nil
}
