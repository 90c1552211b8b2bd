//go:build tools

// Package build pins the two binaries the API server tests run, so that go.sum
// records every module they are built from.
package build

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
