#!/usr/bin/env bash
# Back up the database of DATABASE_URL and the evidence files (MEDIA_ROOT) into one archive:
#   $BACKUP_DIR/tracker-backup-<UTC time>.tar  =  database.dump  (pg_dump, custom format)
#                                               + media.tar.gz   (every file under MEDIA_ROOT)
#                                               + manifest.txt   (date, database, migrations)
# Restore with scripts/restore.sh FILE. pg_dump must be of the server's major version or newer
# (PostgreSQL 15 here: Debian's postgresql-client-15).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BACKUP_DIR="${BACKUP_DIR:-$ROOT/var/backups}"
MEDIA_ROOT="${MEDIA_ROOT:-$ROOT/media}"

fail() { echo "backup: $*" >&2; exit 1; }

case "${DATABASE_URL:-}" in
  postgres://* | postgresql://*) ;;
  "") fail "DATABASE_URL is not set (postgres://user:password@host:5432/name)." ;;
  *) fail "DATABASE_URL is not PostgreSQL; only PostgreSQL databases are backed up." ;;
esac
command -v pg_dump >/dev/null || fail "pg_dump is missing (apt-get install postgresql-client-15)."

# Never echo the URL itself: it may hold a password.
db_name="${DATABASE_URL##*/}"
db_name="${db_name%%\?*}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
name="tracker-backup-$stamp"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

pg_dump --format=custom --no-owner --no-privileges --file="$work/database.dump" "$DATABASE_URL" \
  || fail "pg_dump of database \"$db_name\" failed (see above)."

if [ -d "$MEDIA_ROOT" ]; then
  tar -C "$MEDIA_ROOT" -czf "$work/media.tar.gz" .
else
  tar -czf "$work/media.tar.gz" -T /dev/null  # no evidence files yet: an empty archive
fi

{
  echo "created: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(hostname)"
  echo "database: $db_name"
  echo "pg_dump: $(pg_dump --version)"
  echo "server: $(psql "$DATABASE_URL" -Atc 'SHOW server_version')"
  echo "media files: $(tar -tzf "$work/media.tar.gz" | grep -vc '/$' || true)"
  echo "migrations (app.name, as applied):"
  psql "$DATABASE_URL" -Atc \
    "SELECT '  ' || app || '.' || name FROM django_migrations ORDER BY app, name" 2>/dev/null \
    || echo "  (none: the database has no django_migrations table)"
} >"$work/manifest.txt"

mkdir -p "$BACKUP_DIR"
# Written under a temporary name and renamed: an archive with the final name is complete.
tar -C "$work" -cf "$BACKUP_DIR/$name.tar.partial" manifest.txt database.dump media.tar.gz
mv "$BACKUP_DIR/$name.tar.partial" "$BACKUP_DIR/$name.tar"
echo "$BACKUP_DIR/$name.tar"
