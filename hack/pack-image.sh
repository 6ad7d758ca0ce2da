#!/usr/bin/env bash
# Packs a folder into a one-layer container image in docker-archive format
# (the `docker save` layout), which `ctr -n k8s.io images import` loads into
# the test node's containerd: images without a registry or a Docker daemon.
#
# Usage: hack/pack-image.sh ROOTFS NAME OUT.tar [--env K=V]... [--workdir DIR] [--user UID] [-- COMMAND...]
#   ROOTFS   folder that becomes the image's file system (owner root, mtime 0)
#   NAME     full image reference, e.g. weft.local/pause:1.0 (a domain, so
#            containerd does not prefix docker.io/library/)
#   OUT.tar  the archive to write (replaced atomically)
#   COMMAND  the image's entrypoint (none: the pod spec names the command)
#
# The output depends only on the folder's content and the arguments, so the
# same input gives the same image id.
set -euo pipefail

die() {
	printf 'pack-image.sh: %s\n' "$*" >&2
	exit 1
}
(($# >= 3)) || die "usage: $0 ROOTFS NAME OUT.tar [--env K=V]... [--workdir DIR] [--user UID] [-- COMMAND...]"
ROOTFS=$1 NAME=$2 OUT=$3
shift 3
[[ -d $ROOTFS ]] || die "$ROOTFS is not a folder"
[[ $NAME == */*:* ]] || die "name $NAME needs a domain and a tag, e.g. weft.local/app:1"

ENV=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
WORKDIR=/
USER_ID=
ENTRYPOINT=()
while (($# > 0)); do
	case $1 in
	--env)
		# A PATH of the caller's replaces the default one.
		[[ $2 != PATH=* ]] || ENV[0]=$2
		[[ $2 == PATH=* ]] || ENV+=("$2")
		shift 2
		;;
	--workdir) WORKDIR=$2; shift 2 ;;
	--user) USER_ID=$2; shift 2 ;;
	--) shift; ENTRYPOINT=("$@"); break ;;
	*) die "unknown argument: $1" ;;
	esac
done

case $(uname -m) in
x86_64 | amd64) ARCH=amd64 ;;
aarch64 | arm64) ARCH=arm64 ;;
*) die "unsupported architecture $(uname -m)" ;;
esac

# json_array WORD...: a JSON array of strings.
json_array() {
	local out='' word
	for word in "$@"; do
		word=${word//\\/\\\\}
		word=${word//\"/\\\"}
		out+="${out:+,}\"$word\""
	done
	printf '[%s]' "$out"
}

# Next to OUT, so the final rename stays on one file system.
work=$(mktemp -d "$(dirname "$OUT")/.pack-image.XXXXXX")
trap 'rm -rf "$work"' EXIT

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=gnu \
	-C "$ROOTFS" -cf "$work/layer.tar" .
layer=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir "$work/$layer"
mv "$work/layer.tar" "$work/$layer/layer.tar"

entry=null
((${#ENTRYPOINT[@]} == 0)) || entry=$(json_array "${ENTRYPOINT[@]}")
printf '{"architecture":"%s","os":"linux","config":{"Env":%s,"Entrypoint":%s,"WorkingDir":"%s","User":"%s"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"hack/pack-image.sh"}]}' \
	"$ARCH" "$(json_array "${ENV[@]}")" "$entry" "$WORKDIR" "$USER_ID" "$layer" >"$work/config.json"
config=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/$config.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
	"$config" "$NAME" "$layer" >"$work/manifest.json"

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=gnu \
	-C "$work" -cf "$work/image.tar" manifest.json "$config.json" "$layer"
mv -f "$work/image.tar" "$OUT"
