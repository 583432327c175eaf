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

package main

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Flows the benchmark can create.
const (
	// flowOwn: ClientCredentials, one Aprimo client per credential.
	flowOwn = "cc"
	// flowShared: ClientCredentials, SharedGroup credentials per Aprimo client.
	flowShared = "shared"
	// flowPassword: ResourceOwnerPassword with offline_access, so refresh
	// tokens rotate and the state Secret is written.
	flowPassword = "password"
)

var knownFlows = []string{flowOwn, flowShared, flowPassword}

// config is one benchmark run.
type config struct {
	N             int           `json:"n"`
	Flows         string        `json:"flows"`
	SharedGroup   int           `json:"sharedGroup"`
	TokenLifetime time.Duration `json:"tokenLifetime"`
	Duration      time.Duration `json:"duration"`
	Latency       time.Duration `json:"latency"`
	Unrelated     int           `json:"unrelated"`
	UnrelatedSize int           `json:"unrelatedSize"`
	// UnrelatedDuration is how long the run goes on with the unrelated
	// Secrets in place, after the manager restarted.
	UnrelatedDuration time.Duration `json:"unrelatedDuration"`
	Namespaces        int           `json:"namespaces"`
	KillLeader        bool          `json:"killLeader"`
	Shards            int           `json:"shards"`
	ReadyTimeout      time.Duration `json:"readyTimeout"`
	// ManagerArgs are extra manager flags, e.g. --token-requests-per-second=20.
	ManagerArgs []string `json:"managerArgs"`
	// ManagerEnv is extra environment for the manager, e.g. GOGC=50.
	ManagerEnv []string `json:"managerEnv,omitempty"`
	JSONPath   string   `json:"-"`
	Binary     string   `json:"-"`
	// Dir holds the logs; default <repo>/tmp/bench.
	Dir string `json:"-"`
	// Quiet drops progress lines (tests).
	Quiet bool `json:"-"`
}

func defaultConfig() config {
	return config{
		N: 2000, Flows: "cc=8,shared=1,password=1", SharedGroup: 100,
		TokenLifetime: 2 * time.Minute, Duration: 5 * time.Minute, Latency: 50 * time.Millisecond,
		Unrelated: 20000, UnrelatedSize: 8 << 10, UnrelatedDuration: 2 * time.Minute,
		Namespaces: 10, Shards: 1, ReadyTimeout: 5 * time.Minute,
	}
}

// bindFlags binds the flags of 'go run ./test/bench'.
func (c *config) bindFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.N, "n", c.N, "AprimoCredentials to create, all at once")
	fs.StringVar(&c.Flows, "flows", c.Flows, "flow mix as weights: "+strings.Join(knownFlows, ", ")+
		" (cc: a client per credential; shared: -shared-group credentials per client; password: ResourceOwnerPassword with refresh tokens)")
	fs.IntVar(&c.SharedGroup, "shared-group", c.SharedGroup, "credentials per Aprimo client in the shared flow")
	fs.DurationVar(&c.TokenLifetime, "token-lifetime", c.TokenLifetime, "lifetime of the fake's access tokens")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "how long the steady phase (rotations) runs after all are Ready")
	fs.DurationVar(&c.Latency, "latency", c.Latency, "the fake's response latency")
	fs.IntVar(&c.Unrelated, "unrelated", c.Unrelated, "unrelated Secrets to add before measuring again (0: skip)")
	fs.IntVar(&c.UnrelatedSize, "unrelated-size", c.UnrelatedSize, "bytes of data in each unrelated Secret")
	fs.DurationVar(&c.UnrelatedDuration, "unrelated-duration", c.UnrelatedDuration, "how long to measure with the unrelated Secrets")
	fs.IntVar(&c.Namespaces, "namespaces", c.Namespaces, "namespaces the credentials are spread over")
	fs.BoolVar(&c.KillLeader, "kill-leader", c.KillLeader, "run 2 replicas with leader election and SIGKILL the leader halfway through the steady phase")
	fs.IntVar(&c.Shards, "shards", c.Shards, "operator Deployments, each with --credential-selector on its share (1 or 2)")
	fs.DurationVar(&c.ReadyTimeout, "ready-timeout", c.ReadyTimeout, "give up waiting for all credentials to be Ready after this")
	fs.Func("manager-arg", "extra manager flag, repeatable (e.g. -manager-arg=--token-requests-per-second=20)", func(v string) error {
		c.ManagerArgs = append(c.ManagerArgs, v)
		return nil
	})
	fs.Func("manager-env", "extra environment variable of the manager, repeatable (e.g. -manager-env=GOGC=50)", func(v string) error {
		if !strings.Contains(v, "=") {
			return fmt.Errorf("want NAME=value, got %q", v)
		}
		c.ManagerEnv = append(c.ManagerEnv, v)
		return nil
	})
	fs.StringVar(&c.JSONPath, "json", c.JSONPath, "write the report as JSON to this file")
	fs.StringVar(&c.Binary, "manager", c.Binary, "manager binary (default <repo>/bin/manager, from 'make build')")
	fs.StringVar(&c.Dir, "dir", c.Dir, "scratch directory for logs (default <repo>/tmp/bench)")
}

func (c *config) validate() error {
	switch {
	case c.N < 1:
		return fmt.Errorf("-n must be at least 1")
	case c.TokenLifetime < 15*time.Second:
		return fmt.Errorf("-token-lifetime must be at least 15s (renewal is 10s before expiry at least)")
	case c.Shards != 1 && c.Shards != 2:
		return fmt.Errorf("-shards is 1 or 2")
	case c.KillLeader && c.Shards != 1:
		return fmt.Errorf("-kill-leader and -shards=2 do not combine")
	case c.SharedGroup < 1:
		return fmt.Errorf("-shared-group must be at least 1")
	}
	_, err := parseFlows(c.Flows)
	return err
}

// parseFlows parses "cc=8,shared=1" into weights.
func parseFlows(s string) (map[string]int, error) {
	out := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, ok := strings.Cut(part, "=")
		if !ok {
			w = "1"
		}
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 || !slices.Contains(knownFlows, name) {
			return nil, fmt.Errorf("-flows %q: want weights such as cc=8,shared=1,password=1 of %v", s, knownFlows)
		}
		out[name] += n
	}
	total := 0
	for _, n := range out {
		total += n
	}
	if total == 0 {
		return nil, fmt.Errorf("-flows %q: no flow has a weight", s)
	}
	return out, nil
}

// assignFlows gives each of n credentials a flow, in proportion to the
// weights, interleaved so every shard and namespace gets a mix.
func assignFlows(n int, weights map[string]int) []string {
	total := 0
	for _, f := range knownFlows {
		total += weights[f]
	}
	out := make([]string, n)
	for i := range out {
		slot := i % total
		for _, f := range knownFlows {
			if slot < weights[f] {
				out[i] = f
				break
			}
			slot -= weights[f]
		}
	}
	return out
}
