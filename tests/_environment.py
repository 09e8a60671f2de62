"""Loaded by pytest as a plugin (`-p tests._environment` in pyproject.toml), before
pytest-django reads the settings, so the environment below is what settings see.

- Tests run on PostgreSQL unless the caller names another database on purpose.
- The real Redis, on a database of the tests' own, and a queue of this process's own:
  a demo worker (or another xdist worker) on the same Redis never takes these tasks.
"""

from __future__ import annotations

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tender_desk")
os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ["CELERY_QUEUE"] = f"tests-{os.getpid()}"
