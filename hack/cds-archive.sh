#!/usr/bin/env bash
# Writes an AppCDS archive of a Java image's classes, made by the image's own JVM against the
# image's exact class path, so that the JVM in the container maps the classes instead of loading,
# parsing and verifying them at every start (the xds-server's first mesh state came ~1 s sooner
# and its start used ~1.5 CPU s less; docs/benchmarks.md).
#
# Usage: hack/cds-archive.sh BASE CLASSPATH_FILE APP_JAR CLASSLIST OUT_DIR
#   BASE            the base image as jib names it: tar://<docker-archive> (what hack/tools.sh packs,
#                   /opt/java runs the application); a registry image gets no archive
#   CLASSPATH_FILE  the application's runtime dependencies, one path list (mvn dependency:build-classpath)
#   APP_JAR         the application's own jar
#   CLASSLIST       the classes to archive (-XX:DumpLoadedClassList of a real run)
#   OUT_DIR         gets app/cds/java-args (the java options the entrypoint reads: class path and
#                   archive) and app/cds/<name>.jsa; jib copies it to / (extraDirectories)
#
# The class path lists /app/classpath/<app jar> and /app/libs/<each dependency jar>, where jib's
# packaged mode puts them, in Maven's order; every file gets jib's modification time (1 s after
# the epoch), which the JVM checks with the size before it uses the archive. The dump runs in a
# chroot of the base image with the jars in place (root, unshare), so the JVM, its modules and the
# paths are the container's. Without root, or when the dump fails, the image gets java-args
# without an archive beside it: the JVM starts as before (a missing archive is ignored).
set -euo pipefail

die() {
	printf 'cds-archive.sh: %s\n' "$*" >&2
	exit 1
}
(($# == 5)) || die "usage: $0 BASE CLASSPATH_FILE APP_JAR CLASSLIST OUT_DIR"
BASE=${1#tar://} CLASSPATH_FILE=$2 APP_JAR=$3 CLASSLIST=$4 OUT=$5
[[ -f $CLASSPATH_FILE && -f $APP_JAR && -f $CLASSLIST ]] || die "missing input: $CLASSPATH_FILE $APP_JAR $CLASSLIST"

NAME=$(basename "$APP_JAR" .jar)
ARCHIVE=/app/cds/$NAME.jsa
rm -rf "$OUT"
mkdir -p "$OUT/app/cds"

# The class path, as the container sees it.
classpath=/app/classpath/$(basename "$APP_JAR")
jars=()
# (read fails at the end of a file without a final newline, which build-classpath writes)
IFS=: read -r -a jars <"$CLASSPATH_FILE" || true
for jar in "${jars[@]}"; do
	[[ -n $jar ]] || continue
	[[ $jar == *.jar ]] || die "not a jar on the runtime class path: $jar (build the modules it names first)"
	classpath+=:/app/libs/$(basename "$jar")
done
printf -- '-XX:SharedArchiveFile=%s\n-cp %s\n' "$ARCHIVE" "$classpath" >"$OUT/app/cds/java-args"

skip() {
	printf 'cds-archive.sh: no class data sharing archive in the image (%s); the JVM starts without one\n' "$*" >&2
	exit 0
}
[[ $1 == tar://* && -f $BASE ]] || skip "base image $1 is not a local tar"
((EUID == 0)) || skip "dumping it needs root for a chroot of the base image"
command -v unshare >/dev/null || skip "no unshare"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$work/base" "$root"
tar -xf "$BASE" -C "$work/base"
layers=$(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))[0]["Layers"]))' "$work/base/manifest.json")
while read -r layer; do
	tar -xf "$work/base/$layer" -C "$root"
done <<<"$layers"
[[ -x $root/opt/java/bin/java ]] || skip "the base image has no /opt/java/bin/java"
mkdir -p "$root/app/classpath" "$root/app/libs" "$root/app/cds" "$root/proc"
cp "$APP_JAR" "$root/app/classpath/"
for jar in "${jars[@]}"; do
	[[ -n $jar ]] && cp "$jar" "$root/app/libs/"
done
touch -d @1 "$root"/app/classpath/*.jar "$root"/app/libs/*.jar
cp "$CLASSLIST" "$root/app/cds/classes.lst"
cp "$OUT/app/cds/java-args" "$root/app/cds/java-args"

# /proc: the loader finds the JVM's libraries relative to /proc/self/exe.
in_image() {
	unshare --mount --pid --fork --mount-proc="$root/proc" chroot "$root" "$@"
}
if ! in_image /opt/java/bin/java -Xshare:dump -Xlog:cds=off -Xlog:cds+dynamic=off \
	-XX:SharedClassListFile=/app/cds/classes.lst @/app/cds/java-args >"$work/dump.log" 2>&1; then
	tail -20 "$work/dump.log" >&2
	skip "the dump failed"
fi
# The archive must map with the image's class path, or the JVM would silently ignore it.
in_image /opt/java/bin/java -Xshare:on @/app/cds/java-args -version >/dev/null 2>&1 ||
	die "the archive does not map in the image (java -Xshare:on refused it)"
cp "$root$ARCHIVE" "$OUT$ARCHIVE"
printf 'cds-archive.sh: %s (%s classes listed, %s MB)\n' "$OUT$ARCHIVE" \
	"$(grep -vc '^#' "$CLASSLIST")" "$(($(stat -c %s "$OUT$ARCHIVE") / 1048576))"
