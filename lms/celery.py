"""The Celery app. Configuration lives in settings (the CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")

# DjangoTask gives every task delay_on_commit(), which enqueues only after the commit.
app = Celery("lms", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
