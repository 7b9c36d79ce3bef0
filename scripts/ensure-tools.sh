#!/usr/bin/env bash
# Make sure the given commands exist, installing their Debian packages when they do not.
# Usage: ensure-tools.sh COMMAND=PACKAGE ...   e.g. msgfmt=gettext /usr/bin/chromium=chromium
# A shared library instead of a command (NAME.so…=PACKAGE) is looked up in ldconfig's cache.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""

for pair in "$@"; do
    command="${pair%%=*}"
    package="${pair#*=}"
    case "$command" in
    *.so*)
        if "$(command -v ldconfig || echo /sbin/ldconfig)" -p \
            | awk -v lib="$command" '$1 == lib { found = 1 } END { exit !found }'; then
            continue
        fi ;;
    *)
        if command -v "$command" >/dev/null 2>&1 || [ -x "$command" ]; then continue; fi ;;
    esac
    echo "$command is missing: installing $package from Debian's packages"
    if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
done
