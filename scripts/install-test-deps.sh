#!/usr/bin/env bash
# Installs what the LAN / iptux interop tests need on Debian (bookworm):
#   iptux (the peer we test against), Xvfb (headless X for it), xauth,
#   dbus (a private session bus per iptux: dbus-daemon, dbus-run-session),
#   libglib2.0-bin (gdbus: asks iptux to quit cleanly so it sends BR_EXIT),
#   librsvg2-common (SVG icon loader: GTK's Adwaita icons are SVG; only a
#   Recommends of libgtk-3-0, so --no-install-recommends would leave it out),
#   iproute2 (ip netns, veth, bridge), nftables (packet-loss tests) and
#   openssl (the independent side of the crypto cross-checks; Blowfish needs
#   its legacy provider, which Debian's libssl3 ships), netcat-openbsd
#   (`npm run bench` compares copies with `nc`), and zsh and fish (the
#   completion scripts are run in the shells they are for).
# Idempotent: does nothing when everything is present. Not root: prints a
# notice and exits 0 (the tests then skip what they cannot run).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: not root; skipping installation (LAN/iptux tests will be skipped if tools are missing)" >&2
  exit 0
fi

# command (or file) that must exist -> Debian package providing it
checks=(
  "/usr/bin/iptux:iptux"
  "/usr/bin/Xvfb:xvfb"
  "/usr/bin/xvfb-run:xvfb"
  "/usr/bin/xauth:xauth"
  "/usr/bin/dbus-daemon:dbus-daemon"
  "/usr/bin/dbus-run-session:dbus-bin"
  "/usr/bin/gdbus:libglib2.0-bin"
  "ip:iproute2"
  "nft:nftables"
  "unshare:util-linux"
  "openssl:openssl"
  "nc:netcat-openbsd"
  "zsh:zsh"
  "fish:fish"
)

missing=()
for entry in "${checks[@]}"; do
  what="${entry%%:*}"
  pkg="${entry#*:}"
  if [ "${what#/}" != "$what" ]; then
    [ -x "$what" ] && continue
  else
    command -v "$what" >/dev/null 2>&1 && continue
    # sbin may not be on a non-login root PATH
    [ -x "/usr/sbin/$what" ] || [ -x "/sbin/$what" ] && continue
  fi
  missing+=("$pkg")
done

# SVG pixbuf loader (file, not command)
if ! ls /usr/lib/*/gdk-pixbuf-2.0/2.10.0/loaders/libpixbufloader-svg.so >/dev/null 2>&1; then
  missing+=("librsvg2-common")
fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-test-deps: all test dependencies present"
  exit 0
fi

# de-duplicate
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
