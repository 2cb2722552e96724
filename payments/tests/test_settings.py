"""Production refuses a Stripe set-up that would take money it can never confirm."""

from lms.tests.test_settings import import_settings


def test_production_starts_with_both_stripe_secrets():
    result = import_settings(STRIPE_SECRET_KEY="sk_live_x", STRIPE_WEBHOOK_SECRET="whsec_x")

    assert result.returncode == 0, result.stderr


def test_production_starts_without_payments():
    result = import_settings(STRIPE_SECRET_KEY=None, STRIPE_WEBHOOK_SECRET=None)

    assert result.returncode == 0, result.stderr


def test_production_refuses_a_secret_key_without_a_webhook_secret():
    result = import_settings(STRIPE_SECRET_KEY="sk_live_x", STRIPE_WEBHOOK_SECRET=None)

    assert result.returncode != 0
    assert "STRIPE_WEBHOOK_SECRET" in result.stderr


def test_production_refuses_a_plain_http_stripe_api():
    result = import_settings(
        STRIPE_SECRET_KEY="sk_live_x",
        STRIPE_WEBHOOK_SECRET="whsec_x",
        STRIPE_API_BASE="http://stripe.internal",
    )

    assert result.returncode != 0
    assert "STRIPE_API_BASE" in result.stderr
