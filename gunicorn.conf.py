"""Gunicorn's settings for `make serve`, from the environment (README, "Production settings").

Gunicorn serves plain HTTP behind a TLS-terminating proxy on the same host; WhiteNoise serves
the static files from the same processes.
"""

import multiprocessing
import os

wsgi_app = "tracker.wsgi:application"
bind = os.environ.get("SERVE_ADDR", "127.0.0.1:8000")
# Gunicorn's own convention; two processes per core keep a slow request from holding up others.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# A worker is replaced after this many requests, so a slow leak never grows for long.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
# Gunicorn's control socket has one path per user: servers started side by side (the tests, the
# load drill) would take it from each other. Signals (HUP to reload, TERM to stop) suffice.
control_socket_disable = True
