from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone
from freezegun import freeze_time

from accounts.tests.factories import UserFactory
from certificates import selectors, services
from certificates.errors import (
    CertificateNotReady,
    CertificateRevoked,
    CertificatesDisabled,
    DownloadLinkInvalid,
    EnrollmentNotEligible,
)
from certificates.models import Certificate, CourseCertificateSettings, WeeklyDigestDelivery
from certificates.tests.conftest import complete_course, pdf_text
from certificates.tests.factories import CertificateFactory, CertificateTemplateFactory
from courses.tests.factories import course_with_content
from enrollments import services as enrollment_services
from enrollments.models import Enrollment
from enrollments.tests.factories import EnrollmentFactory, LessonProgressFactory
from lms import events

pytestmark = pytest.mark.django_db


def certificate_emails(mailoutbox) -> list:
    return [message for message in mailoutbox if "certificate" in message.subject]


def issue(enrollment, **kwargs) -> Certificate:
    kwargs.setdefault("source", Certificate.Source.STAFF)
    return services.certificate_issue(enrollment=enrollment, **kwargs)[0]


# --- Issuing ------------------------------------------------------------------------------


def test_completing_a_course_issues_a_certificate_with_its_pdf(completed, student, course):
    certificate = Certificate.objects.get()

    assert certificate.enrollment_id == completed.pk
    assert certificate.status == Certificate.Status.ISSUED
    assert certificate.source == Certificate.Source.COMPLETION
    assert certificate.user_id == student.pk
    assert certificate.course_id == course.pk
    assert certificate.rendered_at is not None
    with certificate.pdf.open("rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_completing_a_course_emails_the_learner_once(completed, student, course, mailoutbox):
    certificate = Certificate.objects.get()

    emails = certificate_emails(mailoutbox)
    assert len(emails) == 1
    assert emails[0].to == [student.email]
    assert emails[0].subject == f"Your certificate for {course.title}"
    assert f"/certificates/verify/{certificate.verification_code}/" in emails[0].body


def test_completion_in_a_course_without_certificates_issues_none(
    enrollment, course, django_capture_on_commit_callbacks
):
    course.certificate_enabled = False
    course.save()

    with django_capture_on_commit_callbacks(execute=True):
        complete_course(enrollment)

    assert Certificate.objects.count() == 0


def test_certificate_snapshots_learner_course_and_instructors(
    enrollment, course, instructor, other_instructor
):
    instructor.full_name = "Whitfield Diffie"
    instructor.save()
    other_instructor.full_name = "Martin Hellman"
    other_instructor.save()
    course.co_instructors.set([other_instructor])
    enrollment.user.full_name = "Ada Lovelace"
    enrollment.user.save()

    certificate = issue(enrollment, grade="Distinction")

    course.title = "Renamed later"
    course.save()
    certificate.refresh_from_db()
    assert certificate.learner_name == "Ada Lovelace"
    assert certificate.course_title == "Practical Cryptography"
    assert certificate.instructor_names == "Whitfield Diffie, Martin Hellman"
    assert certificate.grade == "Distinction"


def test_certificate_issue_leaves_the_render_until_after_the_commit(
    enrollment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        certificate, created = services.certificate_issue(
            enrollment=enrollment, source=Certificate.Source.STAFF
        )

    assert created is True
    assert len(callbacks) == 1
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.PENDING
    assert not certificate.pdf


def test_certificate_issue_twice_returns_the_same_certificate(
    enrollment, django_capture_on_commit_callbacks
):
    first, _ = services.certificate_issue(enrollment=enrollment, source=Certificate.Source.STAFF)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        second, created = services.certificate_issue(
            enrollment=enrollment, source=Certificate.Source.BULK
        )

    assert created is False
    assert second.pk == first.pk
    assert callbacks == []
    assert Certificate.objects.count() == 1


def test_certificate_issue_refuses_a_cancelled_enrolment(enrollment):
    enrollment_services.enrollment_cancel(enrollment=enrollment)

    with pytest.raises(EnrollmentNotEligible):
        issue(enrollment)

    assert Certificate.objects.count() == 0


def test_certificate_issue_refuses_a_course_without_certificates(enrollment, course):
    course.certificate_enabled = False
    course.save()

    with pytest.raises(CertificatesDisabled):
        issue(enrollment)

    assert Certificate.objects.count() == 0


def test_staff_may_issue_for_an_active_enrolment(enrollment, instructor):
    certificate = issue(enrollment, actor=instructor)

    assert certificate.issued_by == instructor
    assert certificate.source == Certificate.Source.STAFF


def test_a_revoked_certificate_can_be_followed_by_a_new_one(enrollment):
    first = issue(enrollment)
    services.certificate_revoke(certificate=first, reason="Wrong name.")

    second = issue(enrollment)

    assert second.pk != first.pk
    assert second.verification_code != first.verification_code
    assert Certificate.objects.filter(enrollment=enrollment).count() == 2


def test_certificate_uses_the_template_chosen_for_its_course(enrollment, course):
    chosen = CertificateTemplateFactory()
    CertificateTemplateFactory(is_default=True)
    services.course_certificate_template_set(course=course, template=chosen)

    assert issue(enrollment).template == chosen


def test_certificate_uses_the_default_template_when_the_course_chose_none(enrollment, course):
    default = CertificateTemplateFactory(is_default=True)
    services.course_certificate_template_set(course=course, template=None)

    assert issue(enrollment).template == default


def test_certificate_without_any_template_uses_the_shipped_one(enrollment):
    assert issue(enrollment).template is None


def test_course_certificate_template_set_updates_the_one_settings_row(course):
    first, second = CertificateTemplateFactory(), CertificateTemplateFactory()

    services.course_certificate_template_set(course=course, template=first)
    services.course_certificate_template_set(course=course, template=second)

    assert CourseCertificateSettings.objects.get(course=course).template == second


def test_make_default_moves_the_default_flag():
    old, new = CertificateTemplateFactory(is_default=True), CertificateTemplateFactory()

    services.certificate_template_make_default(template=new)

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.is_default, new.is_default) == (False, True)


# --- Rendering ----------------------------------------------------------------------------


def test_rendered_pdf_says_who_completed_what(enrollment):
    enrollment.user.full_name = "Grace Hopper"
    enrollment.user.save()
    certificate = issue(enrollment)

    services.certificate_render(certificate_id=certificate.pk)

    certificate.refresh_from_db()
    with certificate.pdf.open("rb") as pdf:
        text = pdf_text(pdf.read())
    assert "Grace Hopper" in text
    assert "Practical Cryptography" in text
    assert certificate.verification_code in text


def test_rendering_twice_issues_once_and_emails_once(
    enrollment, mailoutbox, django_capture_on_commit_callbacks
):
    certificate = issue(enrollment)

    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_render(certificate_id=certificate.pk)
        services.certificate_render(certificate_id=certificate.pk)

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED
    assert len(certificate_emails(mailoutbox)) == 1


@pytest.fixture
def published(monkeypatch):
    """The lms.events published meanwhile (other subscribers left out)."""
    seen = []
    monkeypatch.setattr(events, "_subscribers", [seen.append])
    return seen


def test_the_first_render_announces_certificate_issued_once(enrollment, published):
    certificate = issue(enrollment)

    services.certificate_render(certificate_id=certificate.pk)
    services.certificate_render(certificate_id=certificate.pk, force=True)

    assert [event.type for event in published] == ["certificate.issued"]
    assert published[0].data["certificate_id"] == str(certificate.pk)
    assert published[0].data["enrollment_id"] == str(enrollment.pk)
    assert published[0].data["verification_code"] == certificate.verification_code


def test_a_crash_between_render_and_commit_leaves_it_pending_and_a_rerun_issues_once(
    enrollment, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    certificate = issue(enrollment)

    class Crash(Exception):
        pass

    def crash(certificate):
        raise Crash

    # The PDF is stored, then the transaction dies before it commits.
    with monkeypatch.context() as patch:
        patch.setattr(services, "_send_issued_email", crash)
        with pytest.raises(Crash), django_capture_on_commit_callbacks(execute=True):
            services.certificate_render(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.PENDING
    assert certificate_emails(mailoutbox) == []

    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_render(certificate_id=certificate.pk)

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED
    assert certificate.pdf.name == f"certificates/pdf/{certificate.pk}.pdf"
    assert default_storage.listdir("certificates/pdf")[1] == [f"{certificate.pk}.pdf"]
    assert len(certificate_emails(mailoutbox)) == 1


def test_a_missing_pdf_is_rendered_again_without_a_second_email(
    enrollment, mailoutbox, django_capture_on_commit_callbacks
):
    certificate = issue(enrollment)
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_render(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    default_storage.delete(certificate.pdf.name)

    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_render(certificate_id=certificate.pk)

    assert default_storage.exists(certificate.pdf.name)
    assert len(certificate_emails(mailoutbox)) == 1


def test_a_revoked_certificate_is_not_rendered(enrollment, mailoutbox):
    certificate = issue(enrollment)
    services.certificate_revoke(certificate=certificate, reason="Fraud.")

    services.certificate_render(certificate_id=certificate.pk)

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    assert not certificate.pdf
    assert mailoutbox == []


def test_render_of_an_unknown_certificate_returns_none():
    assert services.certificate_render(certificate_id=Certificate().pk) is None


def test_forced_render_replaces_the_pdf_of_an_issued_certificate(enrollment, mailoutbox):
    certificate = CertificateFactory(issued=True, enrollment=enrollment)
    rendered_at = certificate.rendered_at

    services.certificate_render(certificate_id=certificate.pk, force=True)

    certificate.refresh_from_db()
    assert certificate.rendered_at > rendered_at
    with certificate.pdf.open("rb") as pdf:
        assert "Practical Cryptography" in pdf_text(pdf.read())
    assert mailoutbox == []


def test_render_failure_is_recorded_on_a_pending_certificate(enrollment):
    certificate = issue(enrollment)

    services.certificate_record_render_failure(certificate_id=certificate.pk, error="OSError: disk")

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.PENDING
    assert certificate.render_failures == 1
    assert certificate.last_render_error == "OSError: disk"


# --- Revoking -----------------------------------------------------------------------------


def test_revoke_records_the_reason_the_time_and_who(admin_user):
    certificate = CertificateFactory(issued=True)

    services.certificate_revoke(certificate=certificate, reason=" Plagiarism. ", actor=admin_user)

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    assert certificate.revoked_reason == "Plagiarism."
    assert certificate.revoked_by == admin_user
    assert certificate.revoked_at is not None


def test_revoking_twice_keeps_the_first_reason():
    certificate = CertificateFactory(issued=True)
    services.certificate_revoke(certificate=certificate, reason="First.")

    services.certificate_revoke(certificate=certificate, reason="Second.")

    certificate.refresh_from_db()
    assert certificate.revoked_reason == "First."


def test_revoking_needs_a_reason():
    certificate = CertificateFactory(issued=True)

    with pytest.raises(ValidationError):
        services.certificate_revoke(certificate=certificate, reason="  ")

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED


def test_a_refund_revokes_the_certificate(completed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_services.enrollment_cancel(
            enrollment=completed, status=Enrollment.Status.REFUNDED
        )

    certificate = Certificate.objects.get()
    assert certificate.status == Certificate.Status.REVOKED
    assert certificate.revoked_reason == "The enrolment was refunded."


def test_a_cancellation_keeps_the_certificate(completed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_services.enrollment_cancel(enrollment=completed)

    assert Certificate.objects.get().status == Certificate.Status.ISSUED


# --- Downloading --------------------------------------------------------------------------


def test_download_link_opens_the_certificate_until_it_expires(settings):
    settings.CERTIFICATES_DOWNLOAD_LINK_MAX_AGE = 60
    certificate = CertificateFactory(issued=True)

    with freeze_time("2026-05-04 10:00:00"):
        path, expires_at = services.certificate_download_link(certificate=certificate)
    token = path.rstrip("/").rsplit("/", 1)[1]

    assert path.startswith("/api/v1/certificates/files/")
    assert expires_at == timezone.make_aware(timezone.datetime(2026, 5, 4, 10, 1))
    with freeze_time("2026-05-04 10:00:59"):
        assert services.certificate_get_for_download(token=token) == certificate
    with freeze_time("2026-05-04 10:01:01"), pytest.raises(DownloadLinkInvalid):
        services.certificate_get_for_download(token=token)


def test_a_tampered_download_token_is_refused():
    certificate = CertificateFactory(issued=True)
    other = CertificateFactory(issued=True)
    path, _ = services.certificate_download_link(certificate=certificate)
    token = path.rstrip("/").rsplit("/", 1)[1]

    with pytest.raises(DownloadLinkInvalid):
        services.certificate_get_for_download(
            token=token.replace(str(certificate.pk), str(other.pk))
        )


def test_a_revoked_certificate_has_no_download_link():
    with pytest.raises(CertificateRevoked):
        services.certificate_download_link(certificate=CertificateFactory(revoked=True))


def test_a_pending_certificate_has_no_download_link_yet():
    with pytest.raises(CertificateNotReady):
        services.certificate_download_link(certificate=CertificateFactory())


def test_an_old_link_stops_working_once_the_certificate_is_revoked():
    certificate = CertificateFactory(issued=True)
    path, _ = services.certificate_download_link(certificate=certificate)
    services.certificate_revoke(certificate=certificate, reason="Fraud.")

    with pytest.raises(DownloadLinkInvalid):
        services.certificate_get_for_download(token=path.rstrip("/").rsplit("/", 1)[1])


def test_asking_for_a_missing_pdf_renders_it_again(enrollment, django_capture_on_commit_callbacks):
    certificate = CertificateFactory(issued=True, enrollment=enrollment)
    default_storage.delete(certificate.pdf.name)

    with pytest.raises(CertificateNotReady), django_capture_on_commit_callbacks(execute=True):
        services.certificate_download_link(certificate=certificate)

    certificate.refresh_from_db()
    assert services.certificate_file_exists(certificate=certificate)


# --- The periodic safety net --------------------------------------------------------------


def test_retry_renders_certificates_pending_too_long(django_capture_on_commit_callbacks):
    stale = CertificateFactory(created_at=timezone.now() - timedelta(minutes=30))
    fresh = CertificateFactory()

    with django_capture_on_commit_callbacks(execute=True):
        dispatched, _ = services.certificates_retry_pending()

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert dispatched == 1
    assert stale.status == Certificate.Status.ISSUED
    assert fresh.status == Certificate.Status.PENDING


def test_retry_issues_a_certificate_a_lost_callback_missed():
    missed = EnrollmentFactory(completed=True, completed_at=timezone.now() - timedelta(hours=1))
    EnrollmentFactory(completed=True)  # just now: its callback may still be running

    _, issued = services.certificates_retry_pending()

    assert issued == 1
    assert Certificate.objects.get().enrollment == missed


def test_missing_certificates_leave_out_those_revoked_after_completion():
    revoked = CertificateFactory(revoked=True)

    assert revoked.enrollment not in selectors.enrollment_list_missing_certificate()


def test_missing_certificates_include_a_refunded_enrolment_completed_again():
    revoked = CertificateFactory(
        revoked=True, revoked_at=timezone.now() - timedelta(days=3), enrollment__completed=True
    )
    Enrollment.objects.filter(pk=revoked.enrollment_id).update(completed_at=timezone.now())

    assert list(selectors.enrollment_list_missing_certificate()) == [revoked.enrollment]


def test_missing_certificates_leave_out_courses_without_certificates():
    enrollment = EnrollmentFactory(completed=True)
    enrollment.course.certificate_enabled = False
    enrollment.course.save()

    assert list(selectors.enrollment_list_missing_certificate()) == []


# --- Weekly digest ------------------------------------------------------------------------

MONDAY = timezone.datetime(2026, 5, 4).date()


@pytest.fixture
def learning(student):
    """`student` is half-way through one course and finished another this week."""
    course = course_with_content(published=True, lessons_per_module=2, title="Go for Gophers")
    enrollment = EnrollmentFactory(user=student, course=course, progress_percent=50)
    LessonProgressFactory(enrollment=enrollment, lesson=course.modules.get().lessons.first())
    EnrollmentFactory(
        user=student, course__title="Rust in Anger", completed=True, progress_percent=100
    )
    return enrollment


def digests(mailoutbox) -> list:
    return [message for message in mailoutbox if message.subject.startswith("Your week at")]


def send_all(**kwargs):
    return services.weekly_digest_send_batch(week_start=MONDAY, **kwargs)


def test_digest_summarises_each_course_of_an_active_learner(
    learning, student, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent, skipped, next_after = send_all()

    assert (sent, skipped, next_after) == (1, 0, None)
    [message] = digests(mailoutbox)
    assert message.to == [student.email]
    assert message.subject == "Your week at LMS: 1 course(s) in progress"
    assert "Go for Gophers: 50% done, 1 lesson this week" in message.body
    assert f"/courses/{learning.course.slug}/" in message.body
    assert "Completed this week" in message.body
    assert "Rust in Anger" in message.body


def test_digest_is_sent_once_per_week(learning, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_all()
        sent, skipped, _ = send_all()

    assert (sent, skipped) == (0, 1)
    assert len(digests(mailoutbox)) == 1
    assert WeeklyDigestDelivery.objects.count() == 1


def test_digest_is_sent_again_the_next_week(
    learning, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_all()
        services.weekly_digest_send_batch(week_start=MONDAY + timedelta(days=7))

    assert len(digests(mailoutbox)) == 2


def test_learners_who_opted_out_get_no_digest(
    learning, student, mailoutbox, django_capture_on_commit_callbacks
):
    student.receives_weekly_digest = False
    student.save()

    with django_capture_on_commit_callbacks(execute=True):
        sent, _, _ = send_all()

    assert sent == 0
    assert digests(mailoutbox) == []
    assert selectors.digest_opted_out_count() == 1


def test_no_digest_without_an_active_enrolment(mailoutbox, django_capture_on_commit_callbacks):
    EnrollmentFactory(cancelled=True)
    EnrollmentFactory(completed=True)
    EnrollmentFactory(user=UserFactory(inactive=True))

    with django_capture_on_commit_callbacks(execute=True):
        sent, _, _ = send_all()

    assert sent == 0
    assert digests(mailoutbox) == []


def test_digest_goes_out_in_batches_by_learner_id(mailoutbox, django_capture_on_commit_callbacks):
    learners = sorted((EnrollmentFactory().user for _ in range(3)), key=lambda user: user.pk)

    with django_capture_on_commit_callbacks(execute=True):
        first = send_all(batch_size=2)
        second = send_all(batch_size=2, after_user_id=first[2])

    assert first == (2, 0, learners[1].pk)
    assert second == (1, 0, None)
    assert sorted(message.to[0] for message in digests(mailoutbox)) == sorted(
        learner.email for learner in learners
    )


def test_digest_week_starts_on_monday():
    assert services.digest_week_start(MONDAY + timedelta(days=6)) == MONDAY
    assert services.digest_week_start(MONDAY) == MONDAY
