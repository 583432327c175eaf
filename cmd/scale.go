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

	"k8s.io/apimachinery/pkg/labels"
)

// scaleFlags are the manager's flags for large installations: pacing toward
// Aprimo, sharding, and profiling (docs/performance.md, docs/operations.md).
type scaleFlags struct {
	tokenRequestsPerSecond  float64
	tokenRequestBurst       int
	credentialSelector      string
	pprofAddr               string
	leaderElectionNamespace string
	leaderElectionID        string
	apiCompression          bool
}

func (f *scaleFlags) bind(fs *flag.FlagSet) {
	fs.Float64Var(&f.tokenRequestsPerSecond, "token-requests-per-second", 100,
		"Token requests per second to each Aprimo host, at most; 0 for no limit. "+
			"Keeps a burst of thousands of credentials (at startup, or coming due together) under the tenant's rate limits.")
	fs.IntVar(&f.tokenRequestBurst, "token-request-burst", 50,
		"Token requests to one Aprimo host that may go at once before --token-requests-per-second paces them.")
	fs.StringVar(&f.credentialSelector, "credential-selector", "",
		"Label selector of the AprimoCredentials this operator manages (e.g. shard=a); empty: all. "+
			"Others are not even cached: with --watch-namespaces, splits a large cluster between several operator Deployments.")
	fs.StringVar(&f.pprofAddr, "pprof-bind-address", "",
		"The address the pprof endpoints (/debug/pprof/) bind to, e.g. 127.0.0.1:6060; empty: off.")
	fs.StringVar(&f.leaderElectionID, "leader-election-id", "aprimo-credential-operator.credentials.dev",
		"Name of the leader election Lease. Shards (--credential-selector) in one namespace each need their own.")
	fs.BoolVar(&f.apiCompression, "kube-api-compression", false,
		"Ask the API server for gzip-compressed answers and watch streams. Off: within a cluster it costs CPU "+
			"on both ends for bandwidth nobody is short of; turn it on for a control plane across a slow link.")
	fs.StringVar(&f.leaderElectionNamespace, "leader-election-namespace", "",
		"Namespace of the leader election Lease; empty: the Pod's own. Needed only outside a cluster.")
}

// selector parses --credential-selector; empty selects everything.
func (f *scaleFlags) selector() (labels.Selector, error) {
	return labels.Parse(f.credentialSelector)
}
