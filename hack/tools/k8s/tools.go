//go:build tools

// Package tools records the Kubernetes commands that hack/tools.sh builds, so
// that `go mod tidy` keeps their dependencies in go.sum: the control plane and
// kubectl for the apiserver fixture, and the node's parts (kubelet, kube-proxy,
// scheduler, controller-manager) for the real node of hack/cluster.sh.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
