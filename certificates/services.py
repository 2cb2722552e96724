"""Issuing, rendering, downloading and revoking certificates; the weekly progress digest.

Every path that awards a certificate goes through certificate_issue, which creates a pending
row and hands the PDF to the render task once the transaction commits. certificate_render
is safe to run any number of times, concurrently or after a crash: the status moves from
pending to issued once, under the row lock, and the email goes with that move.
"""

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import partial

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from certificates import selectors
from certificates.errors import (
    CertificateNotReady,
    CertificateRevoked,
    CertificatesDisabled,
    DownloadLinkInvalid,
    EnrollmentNotEligible,
)
from certificates.models import (
    Certificate,
    CertificateTemplate,
    CourseCertificateSettings,
    WeeklyDigestDelivery,
)
from certificates.rendering import CertificateContent, render_certificate_pdf, verification_url
from courses.models import Course
from enrollments.models import Enrollment
from lms import events
from lms.mail import send_templated_email

DOWNLOAD_SALT = "certificates.download"
# A pending certificate this old lost its render (every retry failed, or the task vanished).
STALE_PENDING_AFTER = timedelta(minutes=10)
# How far back the periodic job looks for completions whose certificate was never created.
MISSED_COMPLETIONS_WINDOW = timedelta(days=7)
RETRY_BATCH_SIZE = 500


# --- Issuing ------------------------------------------------------------------------------


def _dispatch_render(certificate_id: uuid.UUID, *, force: bool = False) -> None:
    # Imported here: the tasks module imports this one.
    from certificates.tasks import certificate_render_task

    transaction.on_commit(partial(certificate_render_task.delay, str(certificate_id), force=force))


def _live_certificate(enrollment_id: uuid.UUID) -> Certificate | None:
    return (
        Certificate.objects.filter(enrollment_id=enrollment_id)
        .exclude(status=Certificate.Status.REVOKED)
        .first()
    )


def certificate_issue(
    *,
    enrollment: Enrollment,
    source: str,
    actor: User | None = None,
    grade: str = "",
) -> tuple[Certificate, bool]:
    """Award a certificate for an enrolment; returns it and whether it is new.

    Idempotent: an enrolment that already has a live (pending or issued) certificate gets it
    back. A new one is pending, with snapshots of the learner's name, the course title and
    instructors; its PDF is rendered by the task dispatched after the commit. Refuses
    (409) a course without certificates and a cancelled or refunded enrolment.
    """
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("user", "course", "course__owner")
            .get(pk=enrollment.pk)
        )
        existing = _live_certificate(enrollment.pk)
        if existing is not None:
            return existing, False
        course = enrollment.course
        if not course.certificate_enabled:
            raise CertificatesDisabled()
        if not enrollment.is_active:
            raise EnrollmentNotEligible()
        certificate = Certificate(
            enrollment=enrollment,
            user=enrollment.user,
            course=course,
            template=selectors.certificate_template_for_course(course_id=course.pk),
            source=source,
            issued_by=actor,
            learner_name=enrollment.user.full_name or enrollment.user.email,
            course_title=course.title,
            instructor_names=selectors.course_instructor_names(course=course)[:500],
            grade=grade,
            issued_at=timezone.now(),
        )
        certificate.full_clean(validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                certificate.save()
        except IntegrityError:
            # Another transaction issued one first (SQLite has no row lock to wait on).
            existing = _live_certificate(enrollment.pk)
            if existing is None:
                raise
            return existing, False
        _dispatch_render(certificate.pk)
    return certificate, True


def certificate_issue_on_completion(enrollment_id: uuid.UUID) -> None:
    """The enrolment completion callback: award the certificate if the course gives one."""
    enrollment = Enrollment.objects.select_related("course").filter(pk=enrollment_id).first()
    if (
        enrollment is None
        or enrollment.status != Enrollment.Status.COMPLETED
        or not enrollment.course.certificate_enabled
    ):
        return
    certificate_issue(enrollment=enrollment, source=Certificate.Source.COMPLETION)


def certificates_render_again(*, certificates: QuerySet[Certificate]) -> int:
    """Send live certificates to the render task again (a missing or outdated PDF)."""
    certificate_ids = list(
        certificates.exclude(status=Certificate.Status.REVOKED).values_list("pk", flat=True)
    )
    for certificate_id in certificate_ids:
        _dispatch_render(certificate_id, force=True)
    return len(certificate_ids)


# --- Templates ----------------------------------------------------------------------------


@transaction.atomic
def certificate_template_make_default(*, template: CertificateTemplate) -> CertificateTemplate:
    """Make `template` the one used by courses that chose none (the old default stops)."""
    CertificateTemplate.objects.filter(is_default=True).exclude(pk=template.pk).update(
        is_default=False, updated_at=timezone.now()
    )
    CertificateTemplate.objects.filter(pk=template.pk).update(
        is_default=True, updated_at=timezone.now()
    )
    template.refresh_from_db()
    return template


def course_certificate_template_set(
    *, course: Course, template: CertificateTemplate | None
) -> CourseCertificateSettings:
    """Choose a course's certificate template (None: the default). Future certificates use it."""
    settings_row, _ = CourseCertificateSettings.objects.update_or_create(
        course=course, defaults={"template": template}
    )
    return settings_row


# --- Rendering ----------------------------------------------------------------------------


def _pdf_name(certificate: Certificate) -> str:
    return f"certificates/pdf/{certificate.pk}.pdf"


def certificate_file_exists(*, certificate: Certificate) -> bool:
    return bool(certificate.pdf) and certificate.pdf.storage.exists(certificate.pdf.name)


def _needs_render(certificate: Certificate, *, force: bool = False) -> bool:
    if certificate.status == Certificate.Status.REVOKED:
        return False
    if certificate.status == Certificate.Status.PENDING or force:
        return True
    return not certificate_file_exists(certificate=certificate)


def _store_pdf(certificate: Certificate, pdf: bytes) -> str:
    """Write the PDF under the certificate's own name, replacing a leftover of a crash."""
    storage = certificate.pdf.storage
    name = _pdf_name(certificate)
    if storage.exists(name):
        storage.delete(name)
    return storage.save(name, ContentFile(pdf))


def _send_issued_email(certificate: Certificate) -> None:
    send_templated_email(
        to=[certificate.user.email],
        subject=f"Your certificate for {certificate.course_title}",
        template="certificate_issued",
        context={
            "full_name": certificate.learner_name,
            "course_title": certificate.course_title,
            "verification_code": certificate.verification_code,
            "verification_url": verification_url(certificate.verification_code),
        },
    )


def _publish_issued(certificate: Certificate) -> None:
    """Announce the issue inside its transaction (outgoing webhooks, metrics)."""
    events.publish(
        events.CERTIFICATE_ISSUED,
        {
            "certificate_id": certificate.pk,
            "enrollment_id": certificate.enrollment_id,
            "user_id": certificate.user_id,
            "course_id": certificate.course_id,
            "verification_code": certificate.verification_code,
            "verification_url": verification_url(certificate.verification_code),
            "issued_at": certificate.issued_at,
        },
    )


def certificate_render(*, certificate_id: uuid.UUID, force: bool = False) -> Certificate | None:
    """Render the PDF, store it and mark the certificate issued; email the learner once.

    The slow rendering holds no lock. Storing and the status change happen under the row
    lock, after checking again: a certificate revoked meanwhile, or issued by a concurrent
    run, is left alone. An issued certificate whose file is missing (or any live one, with
    `force`) is rendered again, without a second email. None when it does not exist.
    """
    certificate = Certificate.objects.select_related("template").filter(pk=certificate_id).first()
    if certificate is None or not _needs_render(certificate, force=force):
        return certificate
    rendered_at = certificate.rendered_at
    pdf = render_certificate_pdf(CertificateContent.of(certificate), certificate.template)
    with transaction.atomic():
        certificate = (
            Certificate.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=certificate_id)
        )
        if not _needs_render(certificate, force=force and certificate.rendered_at == rendered_at):
            return certificate
        first_issue = certificate.status == Certificate.Status.PENDING
        certificate.pdf.name = _store_pdf(certificate, pdf)
        certificate.status = Certificate.Status.ISSUED
        certificate.rendered_at = timezone.now()
        certificate.last_render_error = ""
        certificate.save(
            update_fields=["pdf", "status", "rendered_at", "last_render_error", "updated_at"]
        )
        if first_issue:
            _send_issued_email(certificate)
            _publish_issued(certificate)
    return certificate


def certificate_record_render_failure(*, certificate_id: uuid.UUID, error: str) -> None:
    """Note a render that failed for good (shown in the admin); the row stays pending."""
    Certificate.objects.filter(pk=certificate_id, status=Certificate.Status.PENDING).update(
        render_failures=F("render_failures") + 1,
        last_render_error=error[:2000],
        updated_at=timezone.now(),
    )


def certificates_retry_pending(*, now: datetime | None = None) -> tuple[int, int]:
    """The periodic safety net; returns (renders dispatched, certificates issued).

    Dispatches the render again for certificates pending too long, and issues the
    certificates of recent completions whose completion callback never created one.
    """
    now = now or timezone.now()
    cutoff = now - STALE_PENDING_AFTER
    stale = selectors.certificate_list_stale_pending(created_before=cutoff)
    stale_ids = list(stale.values_list("pk", flat=True)[:RETRY_BATCH_SIZE])
    for certificate_id in stale_ids:
        _dispatch_render(certificate_id)
    missed = selectors.enrollment_list_missing_certificate(
        completed_since=now - MISSED_COMPLETIONS_WINDOW
    ).filter(completed_at__lt=cutoff)
    issued = 0
    for enrollment in missed[:RETRY_BATCH_SIZE]:
        issued += certificate_issue(enrollment=enrollment, source=Certificate.Source.COMPLETION)[1]
    return len(stale_ids), issued


# --- Downloading --------------------------------------------------------------------------


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=DOWNLOAD_SALT)


def certificate_download_link(*, certificate: Certificate) -> tuple[str, datetime]:
    """A signed, short-lived path to the PDF and when it expires.

    409 `certificate_revoked`, or `certificate_not_ready` while the PDF is rendered (a
    missing file is sent to the render task again).
    """
    if certificate.status == Certificate.Status.REVOKED:
        raise CertificateRevoked()
    if certificate.status == Certificate.Status.PENDING:
        raise CertificateNotReady()
    if not certificate_file_exists(certificate=certificate):
        _dispatch_render(certificate.pk)
        raise CertificateNotReady()
    token = _signer().sign(str(certificate.pk))
    path = reverse("certificates_api:certificate-file", args=[token])
    expires_at = timezone.now() + timedelta(seconds=settings.CERTIFICATES_DOWNLOAD_LINK_MAX_AGE)
    return path, expires_at


def certificate_get_for_download(*, token: str) -> Certificate:
    """The issued certificate a signed download token names; 404 when invalid or expired."""
    try:
        certificate_id = _signer().unsign(
            token, max_age=settings.CERTIFICATES_DOWNLOAD_LINK_MAX_AGE
        )
    except signing.BadSignature as error:  # SignatureExpired included
        raise DownloadLinkInvalid() from error
    certificate = Certificate.objects.filter(
        pk=certificate_id, status=Certificate.Status.ISSUED
    ).first()
    if certificate is None or not certificate_file_exists(certificate=certificate):
        raise DownloadLinkInvalid()
    return certificate


# --- Revoking -----------------------------------------------------------------------------


@transaction.atomic
def certificate_revoke(
    *, certificate: Certificate, reason: str, actor: User | None = None
) -> Certificate:
    """Revoke a certificate with a reason; verification then answers `revoked`.

    Revoking twice keeps the first reason. The PDF is kept as a record.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the certificate is revoked."]})
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.status == Certificate.Status.REVOKED:
        return certificate
    certificate.status = Certificate.Status.REVOKED
    certificate.revoked_at = timezone.now()
    certificate.revoked_reason = reason
    certificate.revoked_by = actor
    certificate.save(
        update_fields=["status", "revoked_at", "revoked_reason", "revoked_by", "updated_at"]
    )
    return certificate


def certificate_revoke_on_refund(enrollment_id: uuid.UUID, status: str) -> None:
    """The enrolment revocation callback: a refund takes the certificate back."""
    if status != Enrollment.Status.REFUNDED:
        return
    live = Certificate.objects.filter(enrollment_id=enrollment_id).exclude(
        status=Certificate.Status.REVOKED
    )
    for certificate in live:
        certificate_revoke(certificate=certificate, reason="The enrolment was refunded.")


# --- Weekly digest ------------------------------------------------------------------------

DIGEST_BATCH_SIZE = 500
DIGEST_PERIOD = timedelta(days=7)


def digest_week_start(day: date) -> date:
    """The Monday of `day`'s week: a learner gets one digest per such week."""
    return day - timedelta(days=day.weekday())


def _course_url(slug: str) -> str:
    return f"{settings.SITE_URL}/courses/{slug}/"


@transaction.atomic
def weekly_digest_send(
    *, user: User, week_start: date, enrollments: list[Enrollment], since: datetime
) -> bool:
    """Send one learner's digest for the week, unless it was sent already; True if sent.

    `enrollments` come from selectors.digest_enrollments (with `lessons_completed_recently`).
    """
    _, created = WeeklyDigestDelivery.objects.get_or_create(user=user, week_start=week_start)
    if not created:
        return False
    learning = [e for e in enrollments if e.status == Enrollment.Status.ACTIVE]
    send_templated_email(
        to=[user.email],
        subject=f"Your week at {settings.SITE_NAME}: {len(learning)} course(s) in progress",
        template="weekly_digest",
        context={
            "full_name": user.full_name,
            "since": since,
            "courses": [
                {
                    "title": enrollment.course.title,
                    "url": _course_url(enrollment.course.slug),
                    "progress_percent": enrollment.progress_percent,
                    "lessons_this_week": enrollment.lessons_completed_recently,  # type: ignore[attr-defined]
                }
                for enrollment in learning
            ],
            "completed": [
                {"title": e.course.title, "url": _course_url(e.course.slug)}
                for e in enrollments
                if e.status == Enrollment.Status.COMPLETED
            ],
        },
    )
    return True


def weekly_digest_send_batch(
    *,
    week_start: date,
    after_user_id: uuid.UUID | None = None,
    now: datetime | None = None,
    batch_size: int | None = None,
) -> tuple[int, int, uuid.UUID | None]:
    """Send the digest to the next `batch_size` recipients after `after_user_id` (by id).

    Returns (sent, already sent this week, the id to continue after; None when done).
    Two queries per batch, plus the delivery record of each learner.
    """
    batch_size = batch_size or DIGEST_BATCH_SIZE
    now = now or timezone.now()
    since = now - DIGEST_PERIOD
    recipients = selectors.digest_recipients()
    if after_user_id is not None:
        recipients = recipients.filter(pk__gt=after_user_id)
    users = list(recipients[:batch_size])
    rows: dict[uuid.UUID, list[Enrollment]] = defaultdict(list)
    for enrollment in selectors.digest_enrollments(
        user_ids=[user.pk for user in users], since=since
    ):
        rows[enrollment.user_id].append(enrollment)
    sent = 0
    for user in users:
        sent += weekly_digest_send(
            user=user, week_start=week_start, enrollments=rows[user.pk], since=since
        )
    next_after = users[-1].pk if len(users) == batch_size else None
    return sent, len(users) - sent, next_after
