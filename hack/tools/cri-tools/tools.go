//go:build tools

// Package tools records crictl, which hack/tools.sh builds, so that
// `go mod tidy` keeps its dependencies in go.sum.
package tools

import _ "sigs.k8s.io/cri-tools/cmd/crictl"
