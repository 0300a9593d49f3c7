#!/usr/bin/env bash
# Publishes the boxlite CLI as a NativeAOT single binary: artifacts/aot/<rid>/boxlite (default rid linux-x64).
# Installs what NativeAOT needs when it is missing and this runs as root (clang, zlib1g-dev, and libsqlite3-dev,
# whose static SQLite goes into the binary; lld, which with clang builds the Linux box monitor), and fails on any
# warning of the build, the trimmer or the AOT compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
rid=${1:-linux-x64}
out=artifacts/aot/$rid

need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v ld.lld >/dev/null 2>&1 || need+=(lld)
for package in zlib1g-dev libsqlite3-dev; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep 'ok installed' >/dev/null || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "publish-aot: missing ${need[*]} (install them, or run as root on Debian/Ubuntu)" >&2
    exit 1
  fi
fi

log=$(mktemp)
alone=$(mktemp -d)
trap 'rm -rf "$log" "$alone"' EXIT
rm -rf "$out"
status=0
dotnet publish samples/Boxlite.Cli -c Release -r "$rid" -o "$out" -p:TreatWarningsAsErrors=true 2>&1 | tee "$log" || status=$?
if grep -qiE '(^|[^a-z])warning [A-Z]*[0-9]+' "$log"; then
  echo "publish-aot: the publish reported warnings (see above)" >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  exit "$status"
fi

# One file: the binary runs without anything of the publish folder beside it.
cp "$out/boxlite" "$alone/"
"$alone/boxlite" --help >/dev/null
echo "publish-aot: $out/boxlite ($(du -h "$out/boxlite" | cut -f1))"
