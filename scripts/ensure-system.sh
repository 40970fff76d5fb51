#!/usr/bin/env bash
# Installs the Debian packages a step needs, before that step runs, when they are missing.
#
#   scripts/ensure-system.sh pdf      Chinese PDFs: fonts-noto-cjk (the CJK font), libharfbuzz-subset0
#                                     (WeasyPrint's font subsetter; without it the PDF's text cannot
#                                     be extracted), fontconfig and Pango        — make run, make test
#   scripts/ensure-system.sh test     pdf + poppler-utils (pdftoppm renders PDF pages in tests)
#   scripts/ensure-system.sh browser  chromium (driven by playwright-core; never a downloaded
#                                     browser) + fonts-noto-cjk                  — make test-e2e
#
# As root it runs apt-get; otherwise through `sudo -n` when that works without a password;
# otherwise it stops and prints the one command to run as root. Packages already present are
# not touched, and nothing is downloaded when nothing is missing.
set -euo pipefail

packages_for() {
  case "$1" in
    pdf) echo "fonts-noto-cjk libharfbuzz-subset0 fontconfig libpango-1.0-0 libpangoft2-1.0-0" ;;
    test) echo "$(packages_for pdf) poppler-utils" ;;
    browser) echo "chromium fonts-noto-cjk" ;;
    *) echo "usage: $0 pdf|test|browser ..." >&2; exit 64 ;;
  esac
}

wanted=()
for group in "${@:-pdf}"; do
  for p in $(packages_for "$group"); do wanted+=("$p"); done
done

need=()
for p in $(printf '%s\n' "${wanted[@]}" | sort -u); do
  # "install ok installed": dpkg -s alone also succeeds for removed packages whose config remains.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-system: missing ${need[*]}, and this is not a Debian/Ubuntu machine (no apt-get)." >&2
  echo "Install the equivalents with your package manager (a CJK font such as Noto Sans/Serif CJK SC," >&2
  echo "HarfBuzz with libharfbuzz-subset, Pango, poppler's pdftoppm, Chromium), then run make again." >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "ensure-system: these Debian packages are missing: ${need[*]}" >&2
  echo "Installing them needs root. Run this once, then run make again:" >&2
  echo "" >&2
  echo "    sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  echo "" >&2
  exit 1
fi

echo "ensure-system: installing ${need[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq || echo "ensure-system: apt-get update failed; trying the cached package lists" >&2
"${SUDO[@]}" apt-get install -y -qq "${need[@]}"
# New fonts are seen by fontconfig at once; refresh its cache so the first render need not.
command -v fc-cache >/dev/null 2>&1 && fc-cache -s >/dev/null 2>&1 || true
