"""Reads of certificates (scoped to who may see them) and of the weekly digest's data."""

import uuid
from datetime import datetime

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from certificates.models import Certificate, CertificateTemplate, CourseCertificateSettings
from courses.models import Course
from courses.selectors import AnyUser, user_can_manage_course
from enrollments.models import Enrollment

# --- Certificates -------------------------------------------------------------------------


def certificate_get_visible(*, user: AnyUser, pk: uuid.UUID) -> Certificate:
    """The learner's own certificate; the course's instructors and admins see any of theirs.

    Anyone else gets Certificate.DoesNotExist (a 404), so ids reveal nothing.
    """
    certificate = get_object_or_404(
        Certificate.objects.select_related("course", "course__owner").prefetch_related(
            "course__co_instructors"
        ),
        pk=pk,
    )
    if certificate.user_id == user.pk or user_can_manage_course(
        user=user, course=certificate.course
    ):
        return certificate
    raise Certificate.DoesNotExist


def certificate_list_for_learner(*, user: User) -> QuerySet[Certificate]:
    """My certificates, newest first, in every status (a revoked one says so)."""
    return Certificate.objects.filter(user=user).select_related("course").order_by("-issued_at")


def certificate_get_verifiable(*, code: str) -> Certificate:
    """The certificate a public verification code names, once it has been issued.

    A certificate still pending (its code was never shown) is not found, nor is one revoked
    before its PDF existed.
    """
    return get_object_or_404(
        Certificate.objects.filter(
            status__in=[Certificate.Status.ISSUED, Certificate.Status.REVOKED],
            rendered_at__isnull=False,
        ),
        verification_code=code.strip().lower(),
    )


def certificate_template_for_course(*, course_id: uuid.UUID) -> CertificateTemplate | None:
    """The course's chosen template, else the default one; None: the shipped template."""
    chosen = (
        CourseCertificateSettings.objects.filter(course_id=course_id, template__isnull=False)
        .select_related("template")
        .first()
    )
    if chosen is not None:
        return chosen.template
    return CertificateTemplate.objects.filter(is_default=True).first()


def enrollment_list_missing_certificate(
    *, course: Course | None = None, completed_since: datetime | None = None
) -> QuerySet[Enrollment]:
    """Completed enrolments in courses with certificates that should have one and do not.

    Left out: enrolments with a live certificate, and those whose certificate was revoked
    after they completed (staff took it back on purpose). An enrolment refunded, then
    bought and completed again, qualifies once more.
    """
    certificates = Certificate.objects.filter(enrollment=OuterRef("pk"))
    enrollments = Enrollment.objects.filter(
        status=Enrollment.Status.COMPLETED, course__certificate_enabled=True
    ).exclude(
        Exists(certificates.exclude(status=Certificate.Status.REVOKED))
        | Exists(certificates.filter(revoked_at__gte=OuterRef("completed_at")))
    )
    if course is not None:
        enrollments = enrollments.filter(course=course)
    if completed_since is not None:
        enrollments = enrollments.filter(completed_at__gte=completed_since)
    return enrollments.select_related("user", "course").order_by("completed_at", "pk")


def certificate_list_stale_pending(*, created_before: datetime) -> QuerySet[Certificate]:
    """Pending certificates older than `created_before`: their render failed or was lost."""
    return Certificate.objects.filter(
        status=Certificate.Status.PENDING, created_at__lt=created_before
    ).order_by("created_at")


def course_instructor_names(*, course: Course) -> str:
    """The owner first, then the co-instructors by name: the certificate's 'taught by'."""
    names = [course.owner.full_name or course.owner.email]
    names += [user.full_name or user.email for user in course.co_instructors.order_by("full_name")]
    return ", ".join(dict.fromkeys(names))


# --- Weekly digest ------------------------------------------------------------------------


def _learning() -> Exists:
    return Exists(Enrollment.objects.filter(user=OuterRef("pk"), status=Enrollment.Status.ACTIVE))


def digest_recipients() -> QuerySet[User]:
    """Active accounts that want the digest and learn in at least one course, by id."""
    return (
        User.objects.filter(is_active=True, receives_weekly_digest=True)
        .filter(_learning())
        .order_by("pk")
    )


def digest_opted_out_count() -> int:
    """Active learners who turned the digest off (reported by the command)."""
    return (
        User.objects.filter(is_active=True, receives_weekly_digest=False)
        .filter(_learning())
        .count()
    )


def digest_enrollments(*, user_ids: list[uuid.UUID], since: datetime) -> QuerySet[Enrollment]:
    """The digest's rows for these learners in one query: their active enrolments and the
    ones completed since `since`, each with the lessons completed since then."""
    return (
        Enrollment.objects.filter(user_id__in=user_ids)
        .filter(
            Q(status=Enrollment.Status.ACTIVE)
            | Q(status=Enrollment.Status.COMPLETED, completed_at__gte=since)
        )
        .select_related("course")
        .annotate(
            lessons_completed_recently=Count(
                "lesson_progress", filter=Q(lesson_progress__completed_at__gte=since)
            )
        )
        .order_by("user_id", F("last_accessed_at").desc(nulls_last=True), "course__title")
    )
