from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.errors import EmailAlreadyRegistered
from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_user_register_refuses_a_duplicate_without_a_second_row():
    UserFactory(email="dup@example.com")

    with pytest.raises(EmailAlreadyRegistered):
        services.user_register(email="Dup@Example.com", password=PASSWORD, full_name="D")

    assert User.objects.filter(email="dup@example.com").count() == 1


def test_user_deactivate_keeps_the_account_and_revokes_refresh_tokens():
    user = UserFactory()
    refresh = RefreshToken.for_user(user)

    services.user_deactivate(user=user)

    user.refresh_from_db()
    assert user.is_active is False
    assert User.objects.filter(pk=user.pk).exists()
    assert OutstandingToken.objects.get(jti=refresh["jti"]).blacklistedtoken is not None


def test_user_reactivate_lets_the_user_sign_in_again():
    user = UserFactory(inactive=True)

    services.user_reactivate(user=user)

    tokens = services.auth_token_obtain(request=None, email=user.email, password=PASSWORD)
    assert set(tokens) == {"access", "refresh"}


def test_user_revoke_refresh_tokens_counts_only_live_tokens():
    user = UserFactory()
    with freeze_time(timezone.now() - timedelta(days=31)):
        RefreshToken.for_user(user)  # already expired
    RefreshToken.for_user(user)
    RefreshToken.for_user(user).blacklist()
    RefreshToken.for_user(UserFactory())  # someone else's

    assert services.user_revoke_refresh_tokens(user=user) == 1


def test_refresh_tokens_flush_expired_deletes_only_expired_records():
    user = UserFactory()
    with freeze_time(timezone.now() - timedelta(days=31)):
        expired = RefreshToken.for_user(user)
    live = RefreshToken.for_user(user)

    assert services.refresh_tokens_flush_expired() == 1
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [live["jti"]]
    assert not OutstandingToken.objects.filter(jti=expired["jti"]).exists()
