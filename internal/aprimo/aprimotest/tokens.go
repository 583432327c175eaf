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

package aprimotest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

type accessToken struct {
	clientID  string
	expiresAt time.Time
}

type refreshState int

const (
	refreshLive refreshState = iota
	// refreshRotated: exchanged once already; presenting it again is a replay.
	refreshRotated
	refreshRevoked
)

type refreshToken struct {
	clientID string
	username string
	scopes   []string
	// family groups every token descended from one bootstrap, for replay detection.
	family    int
	state     refreshState
	expiresAt time.Time // zero: never
}

// newToken returns 32 random bytes, base64url-encoded.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// issue mints an access token, and a refresh token in family when refreshScopes is not
// nil. The caller holds s.mu.
func (s *Server) issue(reg Registration, username string, scopes, refreshScopes []string, family int, now time.Time) answer {
	secs := max(int64(reg.TokenLifetime/time.Second), 1)
	at := newToken()
	s.access[at] = accessToken{clientID: reg.ClientID, expiresAt: now.Add(time.Duration(secs) * time.Second)}
	body := map[string]any{
		"access_token": at,
		"token_type":   "Bearer",
		"expires_in":   secs,
		"scope":        strings.Join(scopes, " "),
	}
	if refreshScopes != nil {
		body["refresh_token"] = s.newRefreshToken(reg, username, refreshScopes, family, now)
	}
	return answer{status: 200, body: body}
}

// newRefreshToken stores a live refresh token; family 0 starts a new family. The caller
// holds s.mu.
func (s *Server) newRefreshToken(reg Registration, username string, scopes []string, family int, now time.Time) string {
	if family == 0 {
		s.families++
		family = s.families
	}
	rt := &refreshToken{clientID: reg.ClientID, username: username, scopes: scopes, family: family}
	if reg.RefreshTokenLifetime > 0 {
		rt.expiresAt = now.Add(reg.RefreshTokenLifetime)
	}
	tok := newToken()
	s.refresh[tok] = rt
	return tok
}

// revokeFamily kills every token descended from the same bootstrap. The caller holds s.mu.
func (s *Server) revokeFamily(family int) {
	for _, rt := range s.refresh {
		if rt.family == family {
			rt.state = refreshRevoked
		}
	}
}
