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
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseTokenResponse(t *testing.T) {
	tests := map[string]struct {
		body    string
		want    tokenAnswer
		wantErr string
	}{
		"full answer": {
			body: `{"access_token":"eyJ.a-b_c~d+e/f==","token_type":"bearer","expires_in":3600,"refresh_token":"r1","scope":"api offline_access"}`,
			want: tokenAnswer{accessToken: "eyJ.a-b_c~d+e/f==", tokenType: "bearer", refreshToken: "r1", scope: "api offline_access", lifetime: time.Hour},
		},
		"token_type defaults to Bearer": {body: `{"access_token":"a","expires_in":60}`, want: tokenAnswer{accessToken: "a", tokenType: "Bearer", lifetime: time.Minute}},
		"null fields are absent":        {body: `{"access_token":"a","expires_in":60,"refresh_token":null,"token_type":null,"scope":null}`, want: tokenAnswer{accessToken: "a", tokenType: "Bearer", lifetime: time.Minute}},
		"expires_in as a string":        {body: `{"access_token":"a","expires_in":"1800"}`, want: tokenAnswer{accessToken: "a", tokenType: "Bearer", lifetime: 30 * time.Minute}},
		"expires_in as a float":         {body: `{"access_token":"a","expires_in":1.5}`, want: tokenAnswer{accessToken: "a", tokenType: "Bearer", lifetime: 1500 * time.Millisecond}},
		"expires_in with an exponent":   {body: `{"access_token":"a","expires_in":3.6e3}`, want: tokenAnswer{accessToken: "a", tokenType: "Bearer", lifetime: time.Hour}},
		"absurd expires_in is capped":   {body: `{"access_token":"a","expires_in":315360000}`, want: tokenAnswer{accessToken: "a", tokenType: "Bearer", lifetime: 24 * time.Hour}},
		"overflowing expires_in capped": {body: `{"access_token":"a","expires_in":1e400}`, want: tokenAnswer{accessToken: "a", tokenType: "Bearer", lifetime: 24 * time.Hour}},
		"unknown fields are ignored":    {body: `{"access_token":"a","expires_in":60,"id_token":"x"}`, want: tokenAnswer{accessToken: "a", tokenType: "Bearer", lifetime: time.Minute}},

		"empty body":                   {body: ``, wantErr: "not a JSON object"},
		"not JSON":                     {body: `access_token=a&expires_in=60`, wantErr: "not a JSON object"},
		"JSON array":                   {body: `[{"access_token":"a"}]`, wantErr: "not a JSON object"},
		"JSON null":                    {body: `null`, wantErr: "access_token is missing"},
		"access_token missing":         {body: `{"expires_in":60}`, wantErr: "access_token is missing"},
		"access_token empty":           {body: `{"access_token":"","expires_in":60}`, wantErr: "access_token is missing"},
		"access_token a number":        {body: `{"access_token":12345,"expires_in":60}`, wantErr: "access_token is not a string"},
		"access_token an object":       {body: `{"access_token":{"v":"a"},"expires_in":60}`, wantErr: "access_token is not a string"},
		"access_token with a space":    {body: `{"access_token":"a b","expires_in":60}`, wantErr: "characters a bearer token cannot have"},
		"access_token with a newline":  {body: `{"access_token":"a\nb","expires_in":60}`, wantErr: "characters a bearer token cannot have"},
		"token_type a number":          {body: `{"access_token":"a","expires_in":60,"token_type":1}`, wantErr: "token_type is not a string"},
		"refresh_token a number":       {body: `{"access_token":"a","expires_in":60,"refresh_token":7}`, wantErr: "refresh_token is not a string"},
		"refresh_token with control":   {body: `{"access_token":"a","expires_in":60,"refresh_token":"a\u0000b"}`, wantErr: "refresh_token has characters"},
		"scope an array":               {body: `{"access_token":"a","expires_in":60,"scope":["api"]}`, wantErr: "scope is not a string"},
		"expires_in missing":           {body: `{"access_token":"a"}`, wantErr: "expires_in is missing"},
		"expires_in null":              {body: `{"access_token":"a","expires_in":null}`, wantErr: "expires_in is missing"},
		"expires_in zero":              {body: `{"access_token":"a","expires_in":0}`, wantErr: "expires_in is not positive"},
		"expires_in negative":          {body: `{"access_token":"a","expires_in":-60}`, wantErr: "expires_in is not positive"},
		"expires_in underflows":        {body: `{"access_token":"a","expires_in":1e-400}`, wantErr: "expires_in is not positive"},
		"expires_in a word":            {body: `{"access_token":"a","expires_in":"soon"}`, wantErr: "not a number of seconds"},
		"expires_in an empty string":   {body: `{"access_token":"a","expires_in":""}`, wantErr: "not a number of seconds"},
		"expires_in a negative string": {body: `{"access_token":"a","expires_in":"-60"}`, wantErr: "not a number of seconds"},
		"expires_in Inf string":        {body: `{"access_token":"a","expires_in":"Inf"}`, wantErr: "not a number of seconds"},
		"expires_in a boolean":         {body: `{"access_token":"a","expires_in":true}`, wantErr: "not a number of seconds"},
		"expires_in an array":          {body: `{"access_token":"a","expires_in":[60]}`, wantErr: "not a number of seconds"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseTokenResponse([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseTokenResponse error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseTokenResponse: %v", err)
			}
			if got != tc.want {
				t.Errorf("parseTokenResponse = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSanitizeDescription(t *testing.T) {
	secrets := newSecretSet("client-secret-9f8e7d6c", "user-token-1a2b3c4d")
	tests := map[string]struct {
		in, want string
	}{
		"plain":                      {in: "The refresh token has expired.", want: "The refresh token has expired."},
		"control characters":         {in: "line one\r\nline\ttwo\x00\x1b[31m", want: "line one line two [31m"},
		"non-ASCII":                  {in: "Jeton périmé", want: "Jeton p?rim?"},
		"long text is cut at 200":    {in: strings.Repeat("abcd ", 100), want: strings.TrimSpace(strings.Repeat("abcd ", 40))},
		"quotes the client secret":   {in: "client client-secret-9f8e7d6c is unknown", want: ""},
		"quotes 8 bytes of a secret": {in: "bad token ...1a2b3c4d...", want: ""},
		"quotes a secret late":       {in: strings.Repeat("x", 5000) + "secret-9f8e", want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := sanitizeDescription(tc.in, secrets); got != tc.want {
				t.Errorf("sanitizeDescription = %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzParseTokenResponse(f *testing.F) {
	for _, seed := range []string{
		`{"access_token":"a","token_type":"Bearer","expires_in":3600,"refresh_token":"r","scope":"api"}`,
		`{"access_token":"a","expires_in":"60"}`,
		`{"access_token":"a","expires_in":1e400}`,
		`{"access_token":"a","expires_in":-1}`,
		`{"access_token":7}`,
		`<html>`, `null`, `[]`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := parseTokenResponse(body)
		if err != nil {
			return
		}
		if a.accessToken == "" || !isBearerToken(a.accessToken) {
			t.Errorf("accepted access token %q", a.accessToken)
		}
		if a.lifetime <= 0 || a.lifetime > maxLifetime {
			t.Errorf("accepted lifetime %s", a.lifetime)
		}
		if a.tokenType == "" {
			t.Error("empty token type")
		}
		if !json.Valid(body) {
			t.Error("accepted invalid JSON")
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, seed := range []string{"", "0", "30", "-1", "1.5", "99999999999999999999", "Sun, 01 Mar 2026 12:01:00 GMT", "Sunday, 01-Mar-26 12:01:00 GMT", "Sun Mar  1 12:01:00 2026"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if d := ParseRetryAfter(v, t0); d < 0 || d > maxRetryAfter {
			t.Errorf("ParseRetryAfter(%q) = %s", v, d)
		}
	})
}
