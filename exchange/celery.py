"""The Celery application. Jobs keep their due times in the database; beat only ticks."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exchange.settings")

app = Celery("exchange")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The tasks live in the jobs room (exchange.jobs.tasks), not in an app-level tasks module.
app.autodiscover_tasks(["exchange.jobs"])
