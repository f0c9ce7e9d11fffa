#!/usr/bin/env bash
# Installs whatever a fresh machine lacks for Tycho, then builds the native
# addon and the eBPF objects. Idempotent: a second run does only what changed.
#   --build-only   skip Debian packages and npm install
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[tycho-ensure] %s\n' "$*" >&2; }

DEB_PACKAGES=(clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool iproute2 util-linux
  iperf3 sockperf iptables nftables make g++ python3 pkg-config chromium prometheus openssl)

install_debian_packages() {
  local missing=()
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]} (run as root, or install them with apt-get)"
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_npm_packages() {
  local stamp=node_modules/.tycho-lock-stamp
  if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    log "installing npm packages"
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
  fi
}

mount_bpffs() {
  [ "$(id -u)" -eq 0 ] || return 0
  if ! mount | grep -q ' /sys/fs/bpf type bpf'; then
    log "mounting bpffs at /sys/fs/bpf"
    mount -t bpf bpffs /sys/fs/bpf
  fi
}

build_native_addon() {
  local out=packages/datapath/build/Release/tycho_datapath.node
  if [ ! -f "$out" ] || [ -n "$(find packages/datapath/native packages/datapath/binding.gyp -newer "$out" 2>/dev/null | head -1)" ]; then
    log "building the datapath addon"
    (cd packages/datapath && npx --no-install node-gyp rebuild --loglevel=error >/dev/null)
  fi
}

build_bpf_objects() {
  make -s -C bpf
}

# The web app the API serves on :32321; rebuilt when its sources or the
# workspace packages it bundles are newer than the last build.
build_web() {
  local out=apps/web/dist/index.html
  local inputs=(apps/web/src apps/web/index.html apps/web/vite.config.ts apps/web/package.json
    packages/flow/src packages/servicemap/src packages/filters/src)
  if [ ! -f "$out" ] || [ -n "$(find "${inputs[@]}" -newer "$out" 2>/dev/null | head -1)" ]; then
    log "building the web app"
    (cd apps/web && npx --no-install vite build --logLevel error >/dev/null)
  fi
}

if [ "${1:-}" != "--build-only" ]; then
  install_debian_packages
  install_npm_packages
fi
mount_bpffs
build_native_addon
build_bpf_objects
build_web
