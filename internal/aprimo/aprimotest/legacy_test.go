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

package aprimotest_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

const (
	dmClientID     = "1BGEBC9E-A76D-4B85-936F-CFDBE412E8A5"
	legacyClientID = "legacy-integration"
)

func newOtherFixture(t *testing.T) *fixture {
	f := newFixture(t, aprimotest.Options{})
	f.srv.AddRegistration(aprimotest.Registration{ClientID: dmClientID, Grants: []string{aprimotest.GrantDistributedMarketing}, TokenLifetime: time.Hour})
	f.srv.AddRegistration(aprimotest.Registration{ClientID: legacyClientID, Grants: []string{aprimotest.GrantLegacy},
		TokenLifetime: 10 * time.Minute, LegacyRefreshTokenLifetime: time.Hour})
	return f
}

func TestDistributedMarketingTokens(t *testing.T) {
	f := newOtherFixture(t)
	tok, err := f.client.DistributedMarketing(t.Context(), f.srv.URL(), dmClientID, user, userToken)
	if err != nil {
		t.Fatalf("DistributedMarketing: %v", err)
	}
	if !f.srv.ValidAccessToken(tok.AccessToken) || tok.Lifetime() != 3599*time.Second {
		t.Errorf("token valid = %v, lifetime %s; want valid for 3599s as in the DM document", f.srv.ValidAccessToken(tok.AccessToken), tok.Lifetime())
	}
	// A slice, not a map: the last request checked below must be the last case.
	tests := []struct {
		name               string
		clientID, password string
		want               string
	}{
		{name: "wrong password", clientID: dmClientID, password: "nope-nope-nope", want: "invalid_grant"},
		{name: "an OAuth 2.0 registration", clientID: clientID, password: userToken, want: "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.DistributedMarketing(t.Context(), f.srv.URL(), tc.clientID, user, tc.password)
			var e *aprimo.Error
			if !errors.As(err, &e) || e.OAuthError != tc.want {
				t.Errorf("err = %v, want %s", err, tc.want)
			}
		})
	}
	last := f.srv.Requests()[len(f.srv.Requests())-1]
	if last.Path != "/api/v1.0/token" || last.GrantType != "password" || last.ClientID != clientID {
		t.Errorf("last request = %+v", last)
	}
}

func TestDistributedMarketingWantsTheCapitalisedFieldNames(t *testing.T) {
	f := newOtherFixture(t)
	resp, err := f.srv.Client().PostForm(f.srv.URL()+"/api/v1.0/token",
		map[string][]string{"username": {user}, "password": {userToken}, "grant_type": {"password"}, "client_id": {dmClientID}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("lower-case username/password answered %d, want 400", resp.StatusCode)
	}
}

func TestLegacyRefreshTokensLastAndAreReusable(t *testing.T) {
	f := newOtherFixture(t)
	pair, err := f.client.LegacyNativeToken(t.Context(), f.srv.URL(), legacyClientID, user, userToken)
	if err != nil {
		t.Fatalf("LegacyNativeToken: %v", err)
	}
	if pair.RefreshToken == "" || pair.Lifetime() != 10*time.Minute || !f.srv.ValidAccessToken(pair.AccessToken) {
		t.Fatalf("pair: refresh %v, lifetime %s (from the JWT exp), valid %v", pair.RefreshToken != "", pair.Lifetime(), f.srv.ValidAccessToken(pair.AccessToken))
	}
	for i := range 3 { // not single-use
		f.clock.SetTime(t0.Add(time.Duration(i+1) * 10 * time.Minute))
		tok, err := f.client.LegacyRefresh(t.Context(), f.srv.URL(), legacyClientID, pair.RefreshToken)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if !f.srv.ValidAccessToken(tok.AccessToken) || tok.RefreshToken != "" {
			t.Errorf("refresh %d: valid %v, new refresh token %v", i, f.srv.ValidAccessToken(tok.AccessToken), tok.RefreshToken != "")
		}
	}
	f.clock.SetTime(t0.Add(time.Hour))
	_, err = f.client.LegacyRefresh(t.Context(), f.srv.URL(), legacyClientID, pair.RefreshToken)
	if e := (*aprimo.Error)(nil); !errors.As(err, &e) || !e.Expired || e.Class != aprimo.ClassInvalidGrant {
		t.Errorf("after its lifetime: err = %v, want an expired InvalidGrant", err)
	}
	if _, err := f.client.LegacyNativeToken(t.Context(), f.srv.URL(), legacyClientID, user, "wrong-user-token"); aprimo.ClassOf(err) != aprimo.ClassInvalidGrant {
		t.Errorf("wrong user token: err = %v, want InvalidGrant", err)
	}
	if _, err := f.client.LegacyNativeToken(t.Context(), f.srv.URL(), clientID, user, userToken); aprimo.ClassOf(err) != aprimo.ClassInvalidGrant {
		t.Errorf("an OAuth 2.0 registration: err = %v, want InvalidGrant", err)
	}
}

func TestLegacyRevokeKillsAllOfTheUsersRefreshTokens(t *testing.T) {
	f := newOtherFixture(t)
	f.srv.AddUser("other", "ut-other-0000000")
	first, _ := f.client.LegacyNativeToken(t.Context(), f.srv.URL(), legacyClientID, user, userToken)
	second, _ := f.client.LegacyNativeToken(t.Context(), f.srv.URL(), legacyClientID, user, userToken)
	other, _ := f.client.LegacyNativeToken(t.Context(), f.srv.URL(), legacyClientID, "other", "ut-other-0000000")
	if n := f.srv.LiveLegacyRefreshTokens(user); n != 2 {
		t.Fatalf("live refresh tokens = %d, want 2", n)
	}

	err := f.client.LegacyRevoke(t.Context(), f.srv.URL(), legacyClientID, other.AccessToken, f.srv.UserID(user))
	if aprimo.ClassOf(err) != aprimo.ClassUnauthorizedClient {
		t.Errorf("revoking another user's tokens: err = %v, want a 403 (UnauthorizedClient)", err)
	}
	if err := f.client.LegacyRevoke(t.Context(), f.srv.URL(), legacyClientID, first.AccessToken, f.srv.UserID(user)); err != nil {
		t.Fatalf("LegacyRevoke: %v", err)
	}
	if n := f.srv.LiveLegacyRefreshTokens(user); n != 0 {
		t.Errorf("live refresh tokens after revoke = %d, want 0", n)
	}
	if f.srv.LiveLegacyRefreshTokens("other") != 1 {
		t.Error("another user's refresh token was revoked")
	}
	_, err = f.client.LegacyRefresh(t.Context(), f.srv.URL(), legacyClientID, second.RefreshToken)
	if e := (*aprimo.Error)(nil); !errors.As(err, &e) || !e.Expired {
		t.Errorf("a revoked refresh token: err = %v, want 401 with an empty body", err)
	}

	f.clock.SetTime(t0.Add(11 * time.Minute))
	err = f.client.LegacyRevoke(t.Context(), f.srv.URL(), legacyClientID, first.AccessToken, f.srv.UserID(user))
	if e := (*aprimo.Error)(nil); !errors.As(err, &e) || !e.Expired {
		t.Errorf("revoke with an expired access token: err = %v, want 401 with an empty body", err)
	}
}

func TestLegacyEndpointsTakeFaults(t *testing.T) {
	f := newOtherFixture(t)
	f.srv.FailNextFor(legacyClientID, 1, aprimotest.Fault{Status: 503})
	if _, err := f.client.LegacyNativeToken(t.Context(), f.srv.URL(), legacyClientID, user, userToken); aprimo.ClassOf(err) != aprimo.ClassUnavailable {
		t.Errorf("err = %v, want EndpointUnavailable", err)
	}
	if _, err := f.client.LegacyNativeToken(t.Context(), f.srv.URL(), legacyClientID, user, userToken); err != nil {
		t.Errorf("after the fault: %v", err)
	}
}
