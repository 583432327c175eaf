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
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
)

// allowedBy is a plain oracle for the allowlist: the host a transport dials
// equals a pattern, or lies strictly under a "*." one.
func allowedBy(patterns HostAllowlist, hostname string) bool {
	h := strings.TrimSuffix(strings.ToLower(hostname), ".")
	for _, p := range patterns {
		p = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(p)), ".")
		if suffix, ok := strings.CutPrefix(p, "*."); ok {
			if strings.HasSuffix(h, "."+suffix) && len(h) > len(suffix)+1 {
				return true
			}
			continue
		}
		if ip, pip := net.ParseIP(h), net.ParseIP(strings.Trim(p, "[]")); ip != nil && pip != nil && ip.Equal(pip) {
			return true
		}
		if h == p {
			return true
		}
	}
	return false
}

// FuzzEndpointStaysInAllowlist: whatever spec.url or spec.tenant holds (admission
// is not the only line: CEL could change, or be bypassed by an older CRD), the
// client's endpoint check either refuses it before any connection, or yields an
// https URL of the token path, without user info, query or fragment, on a host
// the allowlist names.
func FuzzEndpointStaysInAllowlist(f *testing.F) {
	for _, seed := range [][2]string{
		{"https://acme.aprimo.com", ""},
		{"https://acme.aprimo.com/login/connect/token", ""},
		{"https://acme.aprimo.com.evil.com", ""},
		{"https://evil.com#.aprimo.com", ""},
		{"https://evil.com?.aprimo.com", ""},
		{"https://user@acme.aprimo.com", ""},
		{"https://acme.aprimo.com:443@evil.com", ""},
		{"http://acme.aprimo.com", ""},
		{"HTTPS://ACME.APRIMO.COM.", ""},
		{"https://aprimo.com", ""},
		{"https://127.0.0.1:8443", "127.0.0.1"},
		{"https://[::1]:8443", "::1"},
		{"https://[fe80::1%25eth0]/", "fe80::1"},
		{"https://0x7f.0.0.1", "127.0.0.1"},
		{"https://2130706433", "127.0.0.1"},
		{"https://auth.aprimodm.com/", "auth.aprimodm.com,*.aprimo.com"},
		{"https://a..aprimo.com", ""},
		{"https://acme.aprimo.com\\@evil.com", ""},
		{"https://acme.aprimo.com%2f@evil.com", ""},
		{"https:///acme.aprimo.com", ""},
		{"https:acme.aprimo.com", ""},
		{"//acme.aprimo.com", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, base, patterns string) {
		hosts := DefaultHosts
		if patterns != "" {
			parsed, err := ParseHostAllowlist(patterns)
			if err != nil {
				return
			}
			hosts = parsed
		}
		c := NewClient(Options{Hosts: hosts})
		endpoint, host, err := c.endpoint(base, TokenPath)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Class != ClassHostNotAllowed || e.Sent {
				t.Fatalf("refusal of %q is %#v, want an unsent HostNotAllowed", base, err)
			}
			return
		}
		u, err := url.Parse(endpoint)
		if err != nil {
			t.Fatalf("endpoint %q of %q does not parse: %v", endpoint, base, err)
		}
		switch {
		case u.Scheme != "https":
			t.Errorf("endpoint %q of %q is not https", endpoint, base)
		case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
			t.Errorf("endpoint %q of %q has user info, a query or a fragment", endpoint, base)
		case !strings.HasSuffix(u.Path, TokenPath):
			t.Errorf("endpoint %q of %q is not the token path", endpoint, base)
		case u.Host != host:
			t.Errorf("endpoint %q of %q names host %q in messages, but %q is dialled", endpoint, base, host, u.Host)
		case !allowedBy(hosts, u.Hostname()):
			t.Errorf("endpoint %q of %q dials %q, which %q does not allow", endpoint, base, u.Hostname(), hosts)
		}
	})
}
