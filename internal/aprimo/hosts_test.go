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
	"slices"
	"testing"
)

func TestTenantBaseURL(t *testing.T) {
	if got := TenantBaseURL("acme"); got != "https://acme.aprimo.com" {
		t.Errorf("TenantBaseURL(acme) = %q", got)
	}
}

func TestParseHostAllowlist(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    HostAllowlist
		wantErr bool
	}{
		"one wildcard":             {in: "*.aprimo.com", want: HostAllowlist{"*.aprimo.com"}},
		"spaces trimmed, lowered":  {in: " *.Aprimo.com , auth.aprimodm.com ", want: HostAllowlist{"*.aprimo.com", "auth.aprimodm.com"}},
		"IPv4 and IPv6":            {in: "127.0.0.1,::1,[::1]", want: HostAllowlist{"127.0.0.1", "::1", "[::1]"}},
		"empty":                    {in: "", wantErr: true},
		"trailing comma":           {in: "*.aprimo.com,", wantErr: true},
		"bare star":                {in: "*", wantErr: true},
		"wildcard on a TLD":        {in: "*.com", wantErr: true},
		"wildcard in the middle":   {in: "a.*.aprimo.com", wantErr: true},
		"partial-label wildcard":   {in: "*acme.aprimo.com", wantErr: true},
		"double wildcard":          {in: "*.*.aprimo.com", wantErr: true},
		"URL, not a host":          {in: "https://acme.aprimo.com", wantErr: true},
		"host with port":           {in: "acme.aprimo.com:443", wantErr: true},
		"userinfo":                 {in: "me@acme.aprimo.com", wantErr: true},
		"underscore":               {in: "a_b.aprimo.com", wantErr: true},
		"label starting with dash": {in: "-a.aprimo.com", wantErr: true},
		"wildcard on an IP":        {in: "*.0.0.1", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseHostAllowlist(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseHostAllowlist(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ParseHostAllowlist(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestHostAllowlistAllows(t *testing.T) {
	list := HostAllowlist{"*.aprimo.com", "auth.aprimodm.com", "127.0.0.1", "::1"}
	tests := map[string]struct {
		host string
		want bool
	}{
		"tenant":                        {host: "acme.aprimo.com", want: true},
		"tenant with port":              {host: "acme.aprimo.com:443", want: true},
		"upper case":                    {host: "ACME.Aprimo.COM", want: true},
		"two labels before suffix":      {host: "eu.acme.aprimo.com", want: true},
		"trailing dot":                  {host: "acme.aprimo.com.", want: true},
		"apex is not matched":           {host: "aprimo.com", want: false},
		"suffix without a dot":          {host: "evilaprimo.com", want: false},
		"suffix as a prefix":            {host: "aprimo.com.evil.example", want: false},
		"exact host":                    {host: "auth.aprimodm.com", want: true},
		"subdomain of an exact host":    {host: "x.auth.aprimodm.com", want: false},
		"IPv4":                          {host: "127.0.0.1:8443", want: true},
		"other IPv4":                    {host: "127.0.0.2", want: false},
		"IPv6 bracketed with port":      {host: "[::1]:8443", want: true},
		"IPv6 long form":                {host: "0:0:0:0:0:0:0:1", want: true},
		"empty":                         {host: "", want: false},
		"empty label":                   {host: ".aprimo.com", want: false},
		"odd characters":                {host: "a b.aprimo.com", want: false},
		"percent-decoded slash":         {host: "evil.example/.aprimo.com", want: false},
		"unclosed bracket":              {host: "[::1", want: false},
		"wildcard does not match an IP": {host: "1.2.3.4", want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := list.Allows(tc.host); got != tc.want {
				t.Errorf("Allows(%q) = %v, want %v", tc.host, got, tc.want)
			}
		})
	}
	if (HostAllowlist{}).Allows("acme.aprimo.com") {
		t.Error("an empty allowlist allowed a host")
	}
}
