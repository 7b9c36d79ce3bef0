#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1; start them, or install them from
# Debian's packages first, when they do not. Tests never skip for a missing service.
# Usage: ensure-services.sh [redis]   (redis: Redis only, for the demo's worker)
set -euo pipefail
only="${1:-}"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
    if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ "$only" != redis ] && ! listening 5432; then
    if ! command -v pg_ctlcluster >/dev/null; then
        echo "PostgreSQL is missing: installing it from Debian's packages"
        apt_install postgresql
        # Tests connect as postgres over TCP without a password (trust on loopback only).
        for hba in /etc/postgresql/*/main/pg_hba.conf; do
            as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
        done
    fi
    echo "Starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
    for _ in $(seq 1 30); do listening 5432 && break; sleep 1; done
fi

if ! listening 6379; then
    if ! command -v redis-server >/dev/null; then
        echo "Redis is missing: installing it from Debian's packages"
        apt_install redis-server
    fi
    echo "Starting Redis"
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 30); do listening 6379 && break; sleep 1; done
fi

listening 6379 || { echo "Redis is not answering on 127.0.0.1:6379" >&2; exit 1; }
if [ "$only" = redis ]; then echo "Redis is up."; exit 0; fi
listening 5432 || { echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
echo "PostgreSQL and Redis are up."
