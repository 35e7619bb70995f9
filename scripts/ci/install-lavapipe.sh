#!/usr/bin/env bash
# Installs lavapipe, Mesa's software Vulkan driver, so the webgpu backend (Dawn) finds an adapter on
# machines without a GPU (CI). Debian 12's own Mesa 22.3 lavapipe is refused by Dawn (it lacks
# shaderUniform*ArrayDynamicIndexing), so the driver comes from bookworm-backports (Mesa 25).
# Idempotent: adds the backports source only when missing, installs only when the installed
# driver is not the backports one. Prints the lavapipe ICD json path as its last line, for
# VK_ICD_FILENAMES. Needs root and Debian bookworm.
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "install-lavapipe: must run as root (apt-get)"
  exit 1
fi
codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")"
if [ "$codename" != "bookworm" ]; then
  log "install-lavapipe: expected Debian bookworm, found '${codename:-unknown}'"
  exit 1
fi

# A source line or deb822 file already naming bookworm-backports counts, whoever wrote it.
if ! grep -rqsE '(^|[[:space:]])bookworm-backports([[:space:]]|$)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  log "install-lavapipe: adding the bookworm-backports source"
  cat >/etc/apt/sources.list.d/bookworm-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq
fi

installed="$(dpkg-query -W -f='${Status} ${Version}' mesa-vulkan-drivers 2>/dev/null || true)"
case "$installed" in
  "install ok installed "*~bpo*) log "install-lavapipe: mesa-vulkan-drivers ${installed##* } already installed" ;;
  *)
    # The package lists may be older than the backports source (another script added it).
    if ! apt-cache madison mesa-vulkan-drivers 2>/dev/null | grep -q bookworm-backports; then
      apt-get update -qq
    fi
    log "install-lavapipe: installing mesa-vulkan-drivers from bookworm-backports"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
    ;;
esac

icd="$(dpkg -L mesa-vulkan-drivers | grep -E '/lvp_icd(\.[^/]+)?\.json$' | head -n1 || true)"
if [ -z "$icd" ] || [ ! -f "$icd" ]; then
  log "install-lavapipe: lavapipe ICD json not found in mesa-vulkan-drivers"
  exit 1
fi
log "install-lavapipe: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers); set VK_ICD_FILENAMES=$icd"
printf '%s\n' "$icd"
