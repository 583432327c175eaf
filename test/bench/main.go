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

// Command bench measures the operator at scale, end to end, on one machine:
// a control plane from the envtest binaries (with an audit log), the fake
// Aprimo endpoint (short tokens, a response latency), and bin/manager as a
// separate process. It creates N AprimoCredentials at once, lets them rotate
// for a while, optionally fills the cluster with unrelated Secrets and
// measures again, and prints a Markdown table (and -json, a file). Progress
// goes to stderr. docs/performance.md explains each figure.
//
//	make build && go run ./test/bench -n 2000 -json tmp/bench.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap/zapcore"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

func main() {
	cfg := defaultConfig()
	cfg.bindFlags(flag.CommandLine)
	flag.Parse()
	// envtest and the informers log through controller-runtime: errors only.
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := runBenchmark(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
	rep.writeMarkdown(os.Stdout)
	if cfg.JSONPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(cfg.JSONPath, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: writing %s: %v\n", cfg.JSONPath, err)
			os.Exit(1)
		}
	}
}
