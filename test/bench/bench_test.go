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
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/test/harness"
)

// TestShortRun is the benchmark at N=200 with 20s tokens, as a regression
// check with loose bounds: 'make test' runs it; 'make bench' is the real one.
func TestShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane and the manager; skipped with -short")
	}
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// The manager is built here as 'make build' and the image build it
	// (without the race detector), so its memory and CPU are what a user sees.
	bin := filepath.Join(t.TempDir(), "manager")
	build := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd: %v\n%s", err, out)
	}

	cfg := defaultConfig()
	cfg.N, cfg.Flows, cfg.SharedGroup = 200, "cc=6,shared=2,password=2", 20
	cfg.TokenLifetime, cfg.Duration = 20*time.Second, 30*time.Second
	cfg.Unrelated, cfg.UnrelatedSize, cfg.UnrelatedDuration = 500, 8<<10, 15*time.Second
	cfg.Binary, cfg.Dir, cfg.Quiet = bin, t.TempDir(), !testing.Verbose()
	rep, err := runBenchmark(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	rep.writeMarkdown(&table)
	t.Log("\n" + table.String())

	if rep.Create.NotReady != 0 || rep.Create.ReadyP99 > 30 {
		t.Errorf("create: %d not Ready, p99 %.1fs; want all Ready, p99 under 30s", rep.Create.NotReady, rep.Create.ReadyP99)
	}
	// A pass on a stale cache costs a refused write; creation used to cost
	// one per credential (the target's create echoed by the metadata watch).
	if rep.Create.RefusedWrites > cfg.N/10 {
		t.Errorf("create: %d writes refused by the API server for %d credentials, want at most %d", rep.Create.RefusedWrites, cfg.N, cfg.N/10)
	}
	for name, f := range map[string]*PhaseFigures{"steady": rep.Steady, "unrelated": rep.Unrelat} {
		if f == nil || f.Rotations == 0 {
			t.Errorf("%s: no rotations measured", name)
			continue
		}
		for flow, ff := range f.Flows {
			if ff.Rotations > 0 && ff.RequestsPerRotation > 1.05 {
				t.Errorf("%s [%s]: %.2f token requests per rotation, want at most 1", name, flow, ff.RequestsPerRotation)
			}
			if ff.Rotations > 0 && ff.RequestsPerClientRotation > 1.2 {
				t.Errorf("%s [%s]: %.2f token requests per client rotation, want about 1", name, flow, ff.RequestsPerClientRotation)
			}
			maxWrites := 2.1
			if flow == flowPassword {
				maxWrites = 4.1 // plus the state Secret before the request and after the answer
			}
			if ff.Rotations > 0 && ff.WritesPerRotation > maxWrites {
				t.Errorf("%s [%s]: %.2f writes per rotation, want at most %.0f", name, flow, ff.WritesPerRotation, maxWrites)
			}
		}
		if f.EarlyRotations != 0 {
			t.Errorf("%s: %d refreshes before their renewalTime", name, f.EarlyRotations)
		}
		if f.LatenessP99 > 5 {
			t.Errorf("%s: refresh lateness p99 %.1fs, want under 5s", name, f.LatenessP99)
		}
	}
	if rep.Idle != nil && (rep.Idle.Writes != 0 || rep.Idle.TokenRequests != 0) {
		t.Errorf("idle: %d writes and %d token requests, want none", rep.Idle.Writes, rep.Idle.TokenRequests)
	}
	if rep.ExpiredSeconds != 0 {
		t.Errorf("Secrets held an expired token for %.1fs in all (%d Secrets)", rep.ExpiredSeconds, rep.ExpiredSecrets)
	}
	if len(rep.FullSecretReads) != 0 {
		t.Errorf("the manager read full Secrets without its label selector: %v", rep.FullSecretReads)
	}
}
