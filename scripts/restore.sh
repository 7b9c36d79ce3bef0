#!/usr/bin/env bash
# Restore an archive of scripts/backup.sh into the database of DATABASE_URL and into MEDIA_ROOT.
#   scripts/restore.sh [--force] FILE
# The database must exist and be empty (createdb NAME), and MEDIA_ROOT must hold no files:
# --force restores over what is there (the backup's tables are dropped and recreated, its
# files overwrite files of the same name; other tables and files are left as they are).
# pg_restore must be of the dump's pg_dump version or newer.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MEDIA_ROOT="${MEDIA_ROOT:-$ROOT/media}"

fail() { echo "restore: $*" >&2; exit 1; }
usage() { echo "usage: scripts/restore.sh [--force] FILE   (FILE from scripts/backup.sh)" >&2; exit 2; }

force=0
file=""
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help) usage ;;
    -*) echo "restore: unknown option $arg" >&2; usage ;;
    *) [ -z "$file" ] || usage; file="$arg" ;;
  esac
done
[ -n "$file" ] || usage
[ -f "$file" ] || fail "no such archive: $file"

case "${DATABASE_URL:-}" in
  postgres://* | postgresql://*) ;;
  "") fail "DATABASE_URL is not set (postgres://user:password@host:5432/name)." ;;
  *) fail "DATABASE_URL is not PostgreSQL; only PostgreSQL databases are restored." ;;
esac
command -v pg_restore >/dev/null || fail "pg_restore is missing (apt-get install postgresql-client-15)."

db_name="${DATABASE_URL##*/}"
db_name="${db_name%%\?*}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

tar -C "$work" -xf "$file" 2>/dev/null || fail "$file is not a tar archive."
for part in manifest.txt database.dump media.tar.gz; do
  [ -f "$work/$part" ] || fail "$file has no $part: not an archive of scripts/backup.sh."
done

tables="$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM pg_tables
  WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")" \
  || fail "cannot connect to database \"$db_name\" (create it first: createdb $db_name)."
if [ "$tables" != "0" ] && [ "$force" != 1 ]; then
  fail "database \"$db_name\" is not empty ($tables tables); restore into a new database" \
    "(createdb NAME), or add --force to replace the backup's tables."
fi
files=0
[ -d "$MEDIA_ROOT" ] && files="$(find "$MEDIA_ROOT" -type f | wc -l)"
if [ "$files" != "0" ] && [ "$force" != 1 ]; then
  fail "MEDIA_ROOT ($MEDIA_ROOT) already holds $files files; point MEDIA_ROOT at an empty" \
    "folder, or add --force to write over files of the same name."
fi

echo "Restoring $file into database \"$db_name\" and $MEDIA_ROOT:"
sed -n '1,6p' "$work/manifest.txt" | sed 's/^/  /'
clean=()
[ "$force" = 1 ] && clean=(--clean --if-exists)
# One transaction: a failed restore leaves the database as it was.
pg_restore --no-owner --no-privileges --single-transaction --exit-on-error "${clean[@]}" \
  --dbname="$DATABASE_URL" "$work/database.dump" \
  || fail "pg_restore failed (see above); the database was left as it was."
mkdir -p "$MEDIA_ROOT"
tar -C "$MEDIA_ROOT" -xzf "$work/media.tar.gz"
echo "Restored. Apply newer migrations, if the code is newer than the backup: manage.py migrate"
