from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from freezegun import freeze_time
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tasks import flush_expired_tokens_task
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_flush_expired_tokens_task_removes_expired_refresh_tokens():
    user = UserFactory()
    with freeze_time(timezone.now() - timedelta(days=40)):
        RefreshToken.for_user(user)
    RefreshToken.for_user(user)

    assert flush_expired_tokens_task.delay().get() == 1
    assert OutstandingToken.objects.count() == 1


def test_flush_expired_tokens_task_is_scheduled_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["flush-expired-tokens"]

    assert entry["task"] == flush_expired_tokens_task.name
