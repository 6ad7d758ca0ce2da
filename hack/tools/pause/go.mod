// The pod sandbox ("pause") program of the real node (hack/cluster.sh), packed
// by hack/tools.sh into a local image that containerd uses as sandbox_image, so
// that nothing is ever pulled. Standard library only.
module weft.local/hack/tools/pause

go 1.24.0
