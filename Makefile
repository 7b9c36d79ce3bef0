# Target Tracker — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

# The test suite runs against PostgreSQL (pytest-django creates test_<name>) and Redis.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tracker
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
# The demo evaluates at the date its data was shaped for (DEMO_DATE= evaluates today).
DEMO_DATE ?= 2026-11-24
DEMO_ADDR ?= 127.0.0.1:8000
# The account the demo's plan imports and memberships are recorded for (it cannot sign in).
DEMO_OPERATOR ?= demo.operator

# The Vietnamese translation: the .po is committed, the .mo is compiled here (git-ignored).
LOCALE_MO := locale/vi/LC_MESSAGES/django.mo
# The end-to-end tests drive Debian's Chromium (Playwright's own download does not work here).
CHROMIUM := /usr/bin/chromium
# axe-core, the accessibility checker the end-to-end tests inject (pinned in package-lock.json).
AXE := node_modules/axe-core/axe.min.js

.PHONY: demo test lint bench install install-dev services browser pdf-libs messages demo-data migrate worker serve clean
.PHONY: loadtest backup restore

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

$(LOCALE_MO): locale/vi/LC_MESSAGES/django.po $(VENV)/.installed
	./scripts/ensure-tools.sh msgfmt=gettext
	$(PY) manage.py compilemessages -v0 --ignore=$(VENV)

messages: $(LOCALE_MO)
install: $(VENV)/.installed $(LOCALE_MO) pdf-libs
install-dev: $(VENV)/.installed-dev $(LOCALE_MO) pdf-libs

browser:
	./scripts/ensure-tools.sh $(CHROMIUM)=chromium

# The PDF report: WeasyPrint lays text out with Debian's Pango (its fonts are the project's,
# static/fonts/, never the system's).
pdf-libs:
	./scripts/ensure-tools.sh libpango-1.0.so.0=libpango-1.0-0 libpangoft2-1.0.so.0=libpangoft2-1.0-0

# npm extracts files with the tarball's old dates: touch, or this would run every time.
$(AXE): package.json package-lock.json
	./scripts/ensure-tools.sh npm=npm
	npm ci --no-audit --no-fund
	touch $@

services:
	./scripts/ensure-services.sh

migrate: install
	DEBUG=1 $(PY) manage.py migrate --noinput -v0

# A Celery worker with an embedded beat, for development (production: separate processes, README).
worker: migrate messages
	./scripts/ensure-services.sh redis
	mkdir -p var
	$(VENV)/bin/celery -A tracker worker -B -l info --schedule var/celerybeat-schedule

# Production serving (README, "Production settings"): gunicorn (gunicorn.conf.py: SERVE_ADDR,
# WEB_CONCURRENCY) behind a TLS proxy, static files by WhiteNoise. The environment carries
# SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and the rest; HTTPS=0 for a plain-http trial.
serve: install
	$(PY) manage.py check --deploy
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py compilemessages -v0 --ignore=$(VENV)
	$(PY) manage.py collectstatic --noinput -v0
	exec $(VENV)/bin/gunicorn --config gunicorn.conf.py

demo-data: migrate messages
	$(PY) manage.py create_operator $(DEMO_OPERATOR)
	$(PY) manage.py import_plan --user $(DEMO_OPERATOR) fixtures/bat-xat-2025-2030.yaml
	$(PY) manage.py import_plan --user $(DEMO_OPERATOR) fixtures/ma-lu-thang-2026-2030.yaml
	mkdir -p var
	$(PY) manage.py load_demo --user $(DEMO_OPERATOR) fixtures/demo.yaml > var/demo-logins.txt
	$(PY) manage.py load_register --user $(DEMO_OPERATOR) fixtures/register-demo.yaml
	$(PY) manage.py load_demo --user $(DEMO_OPERATOR) fixtures/register-reports-demo.yaml > /dev/null
	@echo "The demo logins are in var/demo-logins.txt."
	$(PY) manage.py evaluate_targets $(if $(DEMO_DATE),--date $(DEMO_DATE))

demo: demo-data
	@echo
	@cat var/demo-logins.txt
	@echo
	@echo "Serving on http://$(DEMO_ADDR)/ — sign in with a login above (Ctrl-C stops)."
	DEBUG=1 $(PY) manage.py runserver $(DEMO_ADDR)

lint: install-dev
	$(VENV)/bin/ruff check .

test: install-dev services browser pdf-libs $(AXE) lint
	# No model change may lack its migration (the check needs no real database).
	DATABASE_URL=sqlite:///:memory: $(PY) manage.py makemigrations --check --dry-run
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks (docs/benchmarks.md): synthetic data of SCALE (province: 6,000 targets, minutes;
# national: 100,000) in a database of its own, every measurement in one run, the table printed
# and saved as JSON in var/bench/; then the entries-file import.
SCALE ?= province
BENCH_BROKER_URL ?= redis://127.0.0.1:6379/13
bench: install-dev services messages
	./scripts/ensure-tools.sh wrk=wrk
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(BENCH_BROKER_URL) \
		$(PY) -m benchmarks.run --scale $(SCALE)
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(PY) -m pytest benchmarks --benchmark-only --benchmark-columns=min,median,max,rounds

# Load and fault drills (gunicorn, 50 clients, Redis killed, a worker killed; about 5 minutes,
# not part of `make test`): the last run's figures go into docs/reliability.md.
loadtest: install-dev services messages
	./scripts/ensure-tools.sh redis-server=redis-server
	timeout 1800 $(PY) scripts/loadtest.py $(LOADTEST_ARGS)

# The database of DATABASE_URL and the evidence files (MEDIA_ROOT) into one archive in
# BACKUP_DIR (var/backups); `make restore FILE=… [FORCE=1]` puts them back (docs/reliability.md).
backup:
	./scripts/ensure-tools.sh pg_dump=postgresql-client
	./scripts/backup.sh

restore:
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/tracker-backup-….tar [FORCE=1]" >&2; exit 2; }
	./scripts/ensure-tools.sh pg_restore=postgresql-client
	./scripts/restore.sh $(if $(FORCE),--force) "$(FILE)"

clean:
	rm -rf $(VENV) node_modules db.sqlite3 var staticfiles test-artifacts .pytest_cache .ruff_cache
