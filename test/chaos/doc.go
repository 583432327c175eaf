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

// Package chaos holds the long reliability tests of issue 6: the manager
// SIGKILLed in the middle of refresh-token rotations, leader failover between
// two replicas, and the API server restarted under the manager. Each runs
// bin/manager as a separate process against envtest's control plane and the
// fake Aprimo (test/harness). They are skipped unless CHAOS=1; run them with
// 'make test-chaos' (KILLS and CHAOS_DURATION size the runs).
package chaos
