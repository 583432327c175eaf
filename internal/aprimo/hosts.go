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
	"fmt"
	"net"
	"strings"
)

// TenantBaseURL returns the base URL of an Aprimo tenant, "https://<tenant>.aprimo.com".
func TenantBaseURL(tenant string) string {
	return "https://" + tenant + ".aprimo.com"
}

// DefaultHosts is used when Options.Hosts is empty: every Aprimo tenant and the Aprimo DM
// auth host (the default of flow DistributedMarketing), and nothing else,
// so a credential can never send its secret to a host the operator's admin did not allow.
var DefaultHosts = HostAllowlist{"*.aprimo.com", "auth.aprimodm.com"}

// HostAllowlist lists the hosts the client may send credentials to. A pattern is an exact
// host ("auth.aprimodm.com", "127.0.0.1") or "*." and a domain ("*.aprimo.com"), which
// matches one or more labels before the domain but not the domain itself. Matching is
// case-insensitive and ignores ports.
type HostAllowlist []string

// ParseHostAllowlist parses a comma-separated list of host patterns, as given in a flag.
func ParseHostAllowlist(commaSeparated string) (HostAllowlist, error) {
	var out HostAllowlist
	for _, p := range strings.Split(commaSeparated, ",") {
		p = strings.TrimSpace(p)
		if err := validatePattern(p); err != nil {
			return nil, err
		}
		out = append(out, strings.ToLower(p))
	}
	return out, nil
}

func validatePattern(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty host pattern: list hosts separated by commas, e.g. *.aprimo.com,auth.example.com")
	case strings.HasPrefix(p, "*."):
		suffix := strings.TrimSuffix(p[2:], ".")
		// A one-label domain ("*.com") would allow half the internet; an all-numeric
		// top-level label means an IP address, not a domain.
		tld := suffix[strings.LastIndex(suffix, ".")+1:]
		if !isDNSName(suffix) || !strings.Contains(suffix, ".") || strings.Trim(tld, "0123456789") == "" {
			return fmt.Errorf("host pattern %q: a wildcard must be followed by a domain of at least two labels, e.g. *.aprimo.com", p)
		}
	case strings.Contains(p, "*"):
		return fmt.Errorf("host pattern %q: a wildcard is only allowed as \"*.\" at the start, e.g. *.aprimo.com", p)
	case strings.Contains(p, "/") || strings.Contains(p, "@"):
		return fmt.Errorf("host pattern %q: give a host name, not a URL", p)
	default:
		h := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(p, "["), "]"), ".")
		if net.ParseIP(h) == nil && !isDNSName(h) {
			return fmt.Errorf("host pattern %q is not a host name or IP address (ports are not allowed)", p)
		}
	}
	return nil
}

// Allows reports whether host (as in a URL, with or without a port) matches a pattern.
func (a HostAllowlist) Allows(host string) bool {
	h := hostOnly(host)
	ip := net.ParseIP(h)
	if ip == nil && !isDNSName(h) {
		return false
	}
	for _, p := range a {
		p = strings.ToLower(strings.TrimSpace(p))
		if suffix, ok := strings.CutPrefix(p, "*."); ok {
			suffix = strings.TrimSuffix(suffix, ".")
			if prefix, ok := strings.CutSuffix(h, "."+suffix); ok && ip == nil && isDNSName(prefix) {
				return true
			}
			continue
		}
		p = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(p, "["), "]"), ".")
		if pip := net.ParseIP(p); pip != nil {
			if ip != nil && ip.Equal(pip) {
				return true
			}
			continue
		}
		if h == p {
			return true
		}
	}
	return false
}

// hostOnly strips the port, IPv6 brackets and a trailing dot, and lower-cases.
func hostOnly(host string) string {
	h := strings.TrimSpace(host)
	if strings.HasPrefix(h, "[") {
		end := strings.Index(h, "]")
		if end < 0 {
			return ""
		}
		h = h[1:end]
	} else if strings.Count(h, ":") == 1 {
		h = h[:strings.Index(h, ":")]
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// isDNSName reports whether s is a syntactically valid DNS name (letters, digits, '-').
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
