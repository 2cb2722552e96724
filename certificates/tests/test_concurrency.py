"""Real concurrency on PostgreSQL: one certificate and one email, however many callers race.

Each thread has its own database connection; a barrier releases them together.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.db import connections

from certificates import services
from certificates.models import Certificate
from certificates.tests.factories import CertificateFactory
from enrollments.tests.factories import EnrollmentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _race(function) -> list:
    barrier = threading.Barrier(THREADS)

    def run(_):
        try:
            barrier.wait(timeout=30)
            return function()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def test_concurrent_issues_make_one_certificate():
    enrollment = EnrollmentFactory(completed=True)

    results = _race(
        lambda: services.certificate_issue(enrollment=enrollment, source=Certificate.Source.BULK)
    )

    assert len({certificate.pk for certificate, _ in results}) == 1
    assert sorted(created for _, created in results) == [False] * (THREADS - 1) + [True]
    assert Certificate.objects.filter(enrollment=enrollment).count() == 1


def test_concurrent_renders_issue_once_and_email_once():
    certificate = CertificateFactory()

    _race(lambda: services.certificate_render(certificate_id=certificate.pk))

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED
    assert [message.to for message in mail.outbox] == [[certificate.user.email]]
