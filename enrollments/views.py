"""Learning pages: the dashboard, enrolling, leaving a course and completing lessons.

Each view is one call to the same service or selector as the API; the domain's refusals
(payment_required, course_full, lesson_locked, ...) become flash messages or the 403 page.
"""

import uuid
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.models import User
from courses.errors import LessonLocked, NotEnrolled
from courses.selectors import course_get_visible, lesson_get_visible
from courses.views import lesson_access_message, lesson_url, render_forbidden
from enrollments import selectors, services
from enrollments.errors import CompletedByAssessment
from enrollments.models import Enrollment
from lms.exceptions import ApplicationError


def _learner(request: HttpRequest) -> User:
    """The signed-in user of a login_required view."""
    return cast(User, request.user)


def _refusal_message(error: ApplicationError) -> str:
    """The learner-facing (translatable) text for an enrolment refusal, by its stable code."""
    texts = {
        "payment_required": _("This is a paid course: buy it with the button on the course page."),
        "course_full": _("Every seat in this course is taken."),
        "enrollment_closed": _("Enrolment for this course is closed."),
        "course_archived": _("This course is archived and no longer takes enrolments."),
        "course_not_found": _("This course is not published yet."),
        "email_not_verified": _(
            "Verify your email address before you enrol: follow the link in the email we sent you."
        ),
        "enrollment_not_active": _("This enrolment was refunded and cannot change."),
    }
    return texts.get(error.code, error.message)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """My courses in progress (with the lesson to continue), completed and left ones."""
    in_progress, completed, ended = [], [], []
    for enrollment in selectors.enrollment_list_for_learner(user=_learner(request)):
        if enrollment.status == Enrollment.Status.ACTIVE:
            in_progress.append(enrollment)
        elif enrollment.status == Enrollment.Status.COMPLETED:
            completed.append(enrollment)
        else:
            ended.append(enrollment)
    context = {"in_progress": in_progress, "completed": completed, "ended": ended}
    return render(request, "enrollments/dashboard.html", context)


@login_required
def course_enroll(request: HttpRequest, slug: str) -> HttpResponse:
    """POST: enrol in a free course. A GET (e.g. back from the login page) shows the course."""
    course = course_get_visible(user=request.user, id_or_slug=slug)
    course_page = redirect("courses:detail", slug=course.slug)
    if request.method != "POST":
        return course_page
    try:
        _enrollment, created = services.enrollment_create(
            user=_learner(request), course=course, source=Enrollment.Source.FREE
        )
    except ApplicationError as error:
        messages.error(request, _refusal_message(error))
        return course_page
    if created:
        messages.success(request, _("You are enrolled in %(course)s.") % {"course": course.title})
    else:
        messages.info(
            request, _("You are already enrolled in %(course)s.") % {"course": course.title}
        )
    return course_page


def _own_enrollment(request: HttpRequest, pk: uuid.UUID) -> Enrollment:
    """The signed-in learner's enrolment; 404 for anyone else's (staff use the admin)."""
    try:
        enrollment = selectors.enrollment_get_visible(user=request.user, pk=pk)
    except ObjectDoesNotExist:
        raise Http404 from None
    if enrollment.user_id != request.user.pk:
        raise Http404
    return enrollment


@login_required
def enrollment_cancel(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """GET: ask for confirmation. POST: leave the course (progress is kept)."""
    enrollment = _own_enrollment(request, pk)
    if request.method != "POST":
        return render(request, "enrollments/cancel_confirm.html", {"enrollment": enrollment})
    try:
        services.enrollment_cancel(enrollment=enrollment)
    except ApplicationError as error:
        messages.error(request, _refusal_message(error))
    else:
        messages.success(
            request,
            _("You left %(course)s. Your progress is kept if you enrol again.")
            % {"course": enrollment.course.title},
        )
    return redirect("enrollments:dashboard")


@login_required
def lesson_complete(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """POST: mark the lesson complete (idempotent) and go back to it."""
    lesson = lesson_get_visible(user=request.user, pk=pk)
    course = lesson.module.course
    lesson_page = redirect(lesson_url(course_slug=course.slug, lesson_id=lesson.pk))
    if request.method != "POST":
        return lesson_page
    try:
        _progress, enrollment = services.lesson_complete_by_learner(
            user=_learner(request), lesson=lesson
        )
    except (NotEnrolled, LessonLocked) as error:
        unlocks_at = error.unlocks_at if isinstance(error, LessonLocked) else None
        return render_forbidden(
            request, message=lesson_access_message(error), course=course, unlocks_at=unlocks_at
        )
    except CompletedByAssessment as error:
        messages.info(request, error.message)
        return lesson_page
    if enrollment.status == Enrollment.Status.COMPLETED:
        messages.success(
            request, _("You completed %(course)s. Well done!") % {"course": course.title}
        )
    else:
        messages.success(
            request,
            _("Lesson completed. Your progress in this course: %(percent)d%%.")
            % {"percent": enrollment.progress_percent},
        )
    return lesson_page
