from datetime import timedelta

import pytest
from django.utils import timezone

from certificates import services, tasks
from certificates.models import Certificate, WeeklyDigestDelivery
from certificates.tests.factories import CertificateFactory, CertificateTemplateFactory
from enrollments.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def queue_of(task) -> str:
    return task.app.amqp.router.route({}, task.name)["queue"].name


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        pytest.param(tasks.certificate_render_task, "certificates", id="_case render"),
        pytest.param(tasks.certificates_retry_pending_task, "certificates", id="_case retry"),
        pytest.param(tasks.weekly_digest_send_task, "emails", id="_case digest"),
    ],
)
def test_task_goes_to_its_queue(task, queue):
    assert queue_of(task) == queue


def test_render_task_is_acknowledged_late_and_retried_with_backoff():
    task = tasks.certificate_render_task

    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert task.retry_backoff is True
    assert task.retry_jitter is True
    assert task.max_retries == 5
    assert OSError in task.autoretry_for


def test_render_task_issues_the_certificate(mailoutbox, django_capture_on_commit_callbacks):
    certificate = CertificateFactory()

    with django_capture_on_commit_callbacks(execute=True):
        tasks.certificate_render_task.apply(args=[str(certificate.pk)])

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED
    assert len(mailoutbox) == 1


def test_render_task_retries_a_storage_error_then_succeeds(monkeypatch):
    certificate = CertificateFactory()
    real_store = services._store_pdf
    attempts = []

    def flaky_store(certificate, pdf):
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("storage unreachable")
        return real_store(certificate, pdf)

    monkeypatch.setattr(services, "_store_pdf", flaky_store)
    monkeypatch.setattr(tasks.certificate_render_task, "retry_backoff", False)  # eager retries

    tasks.certificate_render_task.apply(args=[str(certificate.pk)], throw=False)

    certificate.refresh_from_db()
    assert len(attempts) == 2
    assert certificate.status == Certificate.Status.ISSUED


def test_render_task_keeps_a_broken_template_pending_with_the_error():
    certificate = CertificateFactory(template=CertificateTemplateFactory(html="{% if %}"))

    result = tasks.certificate_render_task.apply(args=[str(certificate.pk)], throw=False)

    certificate.refresh_from_db()
    assert result.state == "FAILURE"  # permanent: failed at once, not retried
    assert certificate.status == Certificate.Status.PENDING
    assert certificate.render_failures == 1
    assert certificate.last_render_error.startswith("TemplateSyntaxError")


def test_render_task_of_a_deleted_certificate_does_nothing():
    result = tasks.certificate_render_task.apply(args=[str(Certificate().pk)])

    assert result.successful()


def test_retry_pending_task_renders_stale_certificates(django_capture_on_commit_callbacks):
    stale = CertificateFactory(created_at=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.certificates_retry_pending_task.apply()

    stale.refresh_from_db()
    assert stale.status == Certificate.Status.ISSUED


def test_digest_task_sends_every_batch(monkeypatch, mailoutbox, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "DIGEST_BATCH_SIZE", 2)
    for _ in range(5):
        EnrollmentFactory()

    with django_capture_on_commit_callbacks(execute=True):
        tasks.weekly_digest_send_task.apply()

    assert WeeklyDigestDelivery.objects.count() == 5
    assert len(mailoutbox) == 5
    week_starts = set(WeeklyDigestDelivery.objects.values_list("week_start", flat=True))
    assert week_starts == {services.digest_week_start(timezone.localdate())}
