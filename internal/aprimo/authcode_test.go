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
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func TestPKCEVerifierAndChallengeFollowRFC7636(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		p := NewPKCE()
		if n := len(p.Verifier); n < 43 || n > 128 {
			t.Fatalf("verifier has %d characters, want 43 to 128", n)
		}
		if strings.Trim(p.Verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
			t.Fatalf("verifier %q has characters outside A-Z a-z 0-9 - . _ ~", p.Verifier)
		}
		sum := sha256.Sum256([]byte(p.Verifier))
		if want := base64.RawURLEncoding.EncodeToString(sum[:]); p.Challenge != want {
			t.Fatalf("challenge = %q, want base64url(SHA-256(verifier)) = %q", p.Challenge, want)
		}
		if seen[p.Verifier] {
			t.Fatal("the same verifier twice")
		}
		seen[p.Verifier] = true
	}
}

func TestNewStateIsRandom(t *testing.T) {
	a, b := NewState(), NewState()
	if len(a) < 22 || a == b {
		t.Errorf("states %q and %q: want two different values of at least 128 bits", a, b)
	}
}

func TestAuthorizeURL(t *testing.T) {
	req := AuthorizeRequest{
		ClientID: "ABCD-EFG1", RedirectURI: "http://127.0.0.1:8765/callback", State: "st4te",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Scopes: []string{"api", "offline_access"},
	}
	const query = "?response_type=code&state=st4te&client_id=ABCD-EFG1&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback" +
		"&scope=api+offline_access&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
	tests := map[string]struct {
		base    string
		want    string
		wantErr string
	}{
		"tenant base":            {base: "https://acme.aprimo.com", want: "https://acme.aprimo.com/login/connect/authorize" + query},
		"trailing slash":         {base: "https://acme.aprimo.com/", want: "https://acme.aprimo.com/login/connect/authorize" + query},
		"base naming the token":  {base: "https://acme.aprimo.com/login/connect/token", want: "https://acme.aprimo.com/login/connect/authorize" + query},
		"path prefix":            {base: "https://acme.aprimo.com/sso", want: "https://acme.aprimo.com/sso/login/connect/authorize" + query},
		"http refused":           {base: "http://acme.aprimo.com", wantErr: `authorize endpoint base URL must use https, not "http"`},
		"host not allowed":       {base: "https://evil.example.com", wantErr: `authorize endpoint host "evil.example.com" is not allowed (allowed: *.aprimo.com)`},
		"user info refused":      {base: "https://u:p@acme.aprimo.com", wantErr: "must not contain user information"},
		"query refused":          {base: "https://acme.aprimo.com?x=1", wantErr: "must not have a query"},
		"unparseable is unnamed": {base: "https://acme.aprimo.com/%zz", wantErr: "authorize endpoint base URL is not a valid URL"},
	}
	c := NewClient(Options{Hosts: HostAllowlist{"*.aprimo.com"}})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := c.AuthorizeURL(tc.base, req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || ClassOf(err) != ClassHostNotAllowed {
					t.Fatalf("error = %v, want HostNotAllowed containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("AuthorizeURL = %q, %v\nwant            %q", got, err, tc.want)
			}
		})
	}
}
