import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import UserFactory
from certificates.models import Certificate, WeeklyDigestDelivery
from certificates.tests.factories import CertificateFactory
from enrollments.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- issue_certificates -------------------------------------------------------------------


@pytest.fixture
def finished(course):
    """Three completed enrolments in `course`: one already has its certificate."""
    enrollments = [EnrollmentFactory(course=course, completed=True) for _ in range(3)]
    CertificateFactory(issued=True, enrollment=enrollments[0])
    return enrollments


def test_issue_certificates_issues_the_missing_ones(
    course, finished, django_capture_on_commit_callbacks
):
    EnrollmentFactory(course=course)  # still learning
    EnrollmentFactory(completed=True)  # another course

    with django_capture_on_commit_callbacks(execute=True):
        output = run("issue_certificates", "--course", course.slug.upper())

    assert f"{course.slug}: 2 completed enrolment(s) without a certificate." in output
    assert "  2/2" in output
    assert f"2 certificate(s) issued for {course.slug}" in output
    assert set(Certificate.objects.filter(source="bulk").values_list("enrollment", flat=True)) == {
        finished[1].pk,
        finished[2].pk,
    }
    assert Certificate.objects.filter(status="issued").count() == 3


def test_issue_certificates_twice_issues_nothing_more(course, finished):
    run("issue_certificates", "--course", course.slug)

    output = run("issue_certificates", "--course", course.slug)

    assert "0 completed enrolment(s) without a certificate." in output
    assert Certificate.objects.count() == 3


def test_issue_certificates_dry_run_writes_nothing(course, finished):
    output = run("issue_certificates", "--course", course.slug, "--dry-run")

    assert f"would issue: {finished[1].user.email}" in output
    assert "Dry run: 2 to issue, nothing written." in output
    assert Certificate.objects.count() == 1


def test_issue_certificates_refuses_an_unknown_course(db):
    with pytest.raises(CommandError, match="No course with the slug 'nope'"):
        run("issue_certificates", "--course", "nope")


def test_issue_certificates_refuses_a_course_without_certificates(course):
    course.certificate_enabled = False
    course.save()

    with pytest.raises(CommandError, match="Certificates are turned off"):
        run("issue_certificates", "--course", course.slug)


def test_issue_certificates_needs_a_course_or_measure(db):
    with pytest.raises(CommandError):
        run("issue_certificates")


def test_measure_prints_throughput_and_median_render_time(db):
    output = run("issue_certificates", "--measure", "--count", "3")

    assert re.search(r"3 PDFs in [\d.]+ s in one process: [\d.]+ PDFs/s", output)
    assert re.search(r"render time p50 \d+ ms, p95 \d+ ms", output)
    assert Certificate.objects.count() == 0


# --- send_weekly_digest -------------------------------------------------------------------


def test_send_weekly_digest_sends_one_per_learner_and_reports(
    mailoutbox, django_capture_on_commit_callbacks
):
    learners = [EnrollmentFactory().user for _ in range(2)]
    EnrollmentFactory(user=UserFactory(receives_weekly_digest=False))

    with django_capture_on_commit_callbacks(execute=True):
        output = run("send_weekly_digest")

    assert "2 digest(s) sent, 0 already sent this week, 1 learner(s) opted out." in output
    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        learner.email for learner in learners
    )


def test_send_weekly_digest_again_sends_nothing_more(
    mailoutbox, django_capture_on_commit_callbacks
):
    EnrollmentFactory()
    run("send_weekly_digest")

    with django_capture_on_commit_callbacks(execute=True):
        output = run("send_weekly_digest")

    assert "0 digest(s) sent, 1 already sent this week" in output
    assert mailoutbox == []


def test_send_weekly_digest_dry_run_sends_nothing(mailoutbox):
    EnrollmentFactory()

    output = run("send_weekly_digest", "--dry-run")

    assert "1 learner(s) would be considered, 0 opted out. Nothing sent." in output
    assert WeeklyDigestDelivery.objects.count() == 0
