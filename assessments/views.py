"""Quiz and assignment pages: the quiz and assignment parts of the lesson player, an attempt
(its questions, saving, submitting, the results), handing in work and submitted files.

Every view calls the same selectors and services as the API (assessments.selectors,
assessments.services); the domain's refusals, by their stable codes, become flash messages,
errors next to the fields or the 403 page. What is computed here is presentation only.

Correct answers and explanations reach a page only when selectors.attempt_view says the quiz
reveals them (`reveal`): the questions of an open attempt carry no part of the answer key.
"""

import re
import uuid
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache

from accounts.models import User
from assessments import selectors, services
from assessments.errors import (
    AttemptClosed,
    AttemptExpired,
    AttemptInProgress,
    SubmissionGraded,
)
from assessments.models import Assignment, Attempt, Choice, Question, Quiz, Submission
from assessments.selectors import AttemptView
from courses.errors import LessonLocked, NotEnrolled
from courses.hooks import LearnerState
from courses.models import Lesson
from courses.views import (
    datetime_label,
    lesson_access_message,
    lesson_url,
    render_forbidden,
    render_markdown,
)
from lms.exceptions import ApplicationError
from lms.uploads import KIND_SUBMISSION_FILE, UploadRateThrottle, UploadRejected, download_url

_FILE_FIELD = re.compile(r"files\[(\d+)\]")
_ANSWER_FIELD = re.compile(r"answers\[(\d+)\]")

ATTEMPT_STATUS_LABELS = {
    Attempt.Status.IN_PROGRESS: gettext_lazy("In progress"),
    Attempt.Status.SUBMITTED: gettext_lazy("Submitted"),
    Attempt.Status.EXPIRED: gettext_lazy("Closed when the time ran out"),
}
SUBMISSION_STATUS_LABELS = {
    Submission.Status.SUBMITTED: gettext_lazy("Handed in, waiting for a grade"),
    Submission.Status.GRADED: gettext_lazy("Graded"),
    Submission.Status.RETURNED: gettext_lazy("Returned for revision: you may hand it in again"),
}
SHOW_ANSWERS_LABELS = {
    Quiz.ShowAnswers.NEVER: gettext_lazy("The correct answers are not shown."),
    Quiz.ShowAnswers.AFTER_SUBMIT: gettext_lazy(
        "The correct answers and explanations are shown after you submit an attempt."
    ),
    Quiz.ShowAnswers.AFTER_PASSING: gettext_lazy(
        "The correct answers and explanations are shown once you pass."
    ),
}


def _learner(request: HttpRequest) -> User:
    """The signed-in user of a login_required view."""
    return cast(User, request.user)


def _forbidden(
    request: HttpRequest, error: NotEnrolled | LessonLocked, lesson: Lesson
) -> HttpResponse:
    unlocks_at = error.unlocks_at if isinstance(error, LessonLocked) else None
    return render_forbidden(
        request,
        message=lesson_access_message(error),
        course=lesson.module.course,
        unlocks_at=unlocks_at,
    )


def _lesson_page(lesson: Lesson, anchor: str) -> str:
    return f"{lesson_url(course_slug=lesson.module.course.slug, lesson_id=lesson.pk)}#{anchor}"


def _duration_label(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return ngettext("%(count)d second", "%(count)d seconds", rest) % {"count": rest}
    label = ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    if rest:
        label += " " + ngettext("%(count)d second", "%(count)d seconds", rest) % {"count": rest}
    return label


def _clock_label(seconds: int) -> str:
    """12:05 or 1:02:05, as the countdown shows it."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _number_label(value: Decimal | None) -> str:
    """Decimal("3.140000") -> "3.14", Decimal("100.000000") -> "100"."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


# --- The quiz part of the lesson player ---------------------------------------------------


def quiz_lesson_context(
    request: HttpRequest, lesson: Lesson, *, state: LearnerState, can_manage: bool
) -> dict[str, Any]:
    """The quiz of a quiz lesson in its player (registered with courses.views)."""
    try:
        quiz = selectors.quiz_get_for_lesson(lesson=lesson)
    except Http404:
        return {"quiz_panel": None}
    return {"quiz_panel": _quiz_panel(request, quiz, state=state, can_manage=can_manage)}


def _quiz_panel(
    request: HttpRequest, quiz: Quiz, *, state: LearnerState, can_manage: bool
) -> dict[str, Any]:
    """Quiz facts, the learner's attempts and whether they can start one now (and if not,
    why). The service decides again when they try."""
    now = timezone.now()
    summary = selectors.learner_attempt_summary(quiz=quiz, user=request.user)
    used = summary["attempts_used"]
    attempts_left = max(quiz.max_attempts - used, 0) if quiz.max_attempts else None
    attempts = []
    if state.is_enrolled and not can_manage:
        attempts = [
            {
                "number": attempt.number,
                "status": ATTEMPT_STATUS_LABELS[Attempt.Status(attempt.status)],
                "is_graded": attempt.is_graded,
                "when": datetime_label(attempt.submitted_at or attempt.started_at),
                "score": _number_label(attempt.score_percent),
                "passed": attempt.passed,
                "url": reverse("assessments:attempt", kwargs={"pk": attempt.pk}),
            }
            for attempt in selectors.attempt_list(quiz=quiz, user=request.user)
        ]
    blocked = ""
    if not state.is_enrolled:
        blocked = "" if can_manage else _("Enrol in the course to take this quiz.")
    elif summary["open_attempt"]:
        blocked = ""  # the panel offers to continue it
    elif not quiz.question_count:
        blocked = _("This quiz has no questions yet.")
    elif quiz.available_from and now < quiz.available_from:
        blocked = _("This quiz opens on %(time)s.") % {"time": datetime_label(quiz.available_from)}
    elif quiz.available_until and now >= quiz.available_until:
        blocked = _("This quiz closed on %(time)s.") % {
            "time": datetime_label(quiz.available_until)
        }
    elif attempts_left == 0:
        blocked = _("You have used every attempt of this quiz.")
    open_attempt = summary["open_attempt"]
    return {
        "quiz": quiz,
        "question_count": quiz.question_count,
        "time_limit": _duration_label(quiz.time_limit_seconds) if quiz.time_limit_seconds else "",
        "passing_score": quiz.passing_score_percent,
        "max_attempts": quiz.max_attempts,
        "attempts_used": used,
        "attempts_left": attempts_left,
        "opens_at": datetime_label(quiz.available_from) if quiz.available_from else "",
        "closes_at": datetime_label(quiz.available_until) if quiz.available_until else "",
        "answers_policy": SHOW_ANSWERS_LABELS[Quiz.ShowAnswers(quiz.show_correct_answers)],
        "passed": summary["passed"],
        "attempts": attempts,
        "open_attempt_url": (
            reverse("assessments:attempt", kwargs={"pk": open_attempt}) if open_attempt else ""
        ),
        "can_start": state.is_enrolled and not open_attempt and not blocked,
        "is_first_attempt": used == 0,
        "blocked": blocked,
        "can_manage": can_manage,
    }


def _start_refusal(error: ApplicationError) -> str:
    texts = {
        "max_attempts_reached": _("You have used every attempt of this quiz."),
        "quiz_not_available": _("This quiz is not open now."),
        "quiz_has_no_questions": _("This quiz has no questions yet."),
    }
    return texts.get(error.code, error.message)


@login_required
def quiz_attempt_start(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """POST: start an attempt and open it. A GET (e.g. back from the login page) shows the
    quiz's lesson."""
    quiz = selectors.quiz_get_visible(user=request.user, pk=pk)
    quiz_page = _lesson_page(quiz.lesson, "quiz")
    if request.method != "POST":
        return redirect(quiz_page)
    try:
        attempt = services.attempt_start(quiz=quiz, user=_learner(request))
    except AttemptInProgress as error:
        messages.info(request, _("You already have an attempt in progress: here it is."))
        return redirect("assessments:attempt", pk=error.fields["attempt"][0])
    except (NotEnrolled, LessonLocked) as error:
        return _forbidden(request, error, quiz.lesson)
    except ApplicationError as error:
        messages.error(request, _start_refusal(error))
        return redirect(quiz_page)
    return redirect("assessments:attempt", pk=attempt.pk)


# --- An attempt: questions, saving and submitting -----------------------------------------


def _field_name(question: Question) -> str:
    return f"q-{question.pk}"


def _answer_field(question: Question, choices: list[Choice]) -> forms.Field:
    offered = [(str(choice.pk), choice.text) for choice in choices]
    kind = question.kind
    if kind == Question.Kind.SINGLE_CHOICE:
        return forms.ChoiceField(choices=offered, required=False)
    if kind == Question.Kind.MULTIPLE_CHOICE:
        return forms.MultipleChoiceField(choices=offered, required=False)
    if kind == Question.Kind.TRUE_FALSE:
        return forms.TypedChoiceField(
            choices=[("true", _("True")), ("false", _("False"))],
            coerce=lambda value: value == "true",
            empty_value=None,
            required=False,
        )
    if kind == Question.Kind.SHORT_TEXT:
        return forms.CharField(max_length=1000, required=False)
    return forms.DecimalField(max_digits=20, decimal_places=6, required=False)


def _saved_value(question: Question, view: AttemptView) -> Any:
    """The saved answer to a question, as its form field's initial value."""
    answer = view.answers.get(question.pk)
    if answer is None:
        return None
    picked = [str(choice.pk) for choice in answer.selected_choices.all()]
    kind = question.kind
    if kind == Question.Kind.SINGLE_CHOICE:
        return picked[0] if picked else None
    if kind == Question.Kind.MULTIPLE_CHOICE:
        return picked
    if kind == Question.Kind.TRUE_FALSE:
        return None if answer.boolean_response is None else str(answer.boolean_response).lower()
    if kind == Question.Kind.SHORT_TEXT:
        return answer.text_response
    return _number_label(answer.number_response)


class AttemptAnswersForm(forms.Form):
    """One field per question of the attempt (`q-<question id>`), holding every answer: a
    question left blank clears its saved answer."""

    def __init__(self, view: AttemptView, data: Any = None) -> None:
        initial = {
            _field_name(question): _saved_value(question, view) for question in view.questions
        }
        super().__init__(data=data, initial=initial)
        self.view = view
        for question in view.questions:
            self.fields[_field_name(question)] = _answer_field(question, view.choices[question.pk])

    def answer_inputs(self) -> list[services.AnswerInput]:
        inputs = []
        for question in self.view.questions:
            value = self.cleaned_data.get(_field_name(question))
            kind = question.kind
            if kind == Question.Kind.SINGLE_CHOICE:
                inputs.append(
                    services.AnswerInput(
                        question=question.pk, choices=[uuid.UUID(value)] if value else []
                    )
                )
            elif kind == Question.Kind.MULTIPLE_CHOICE:
                inputs.append(
                    services.AnswerInput(
                        question=question.pk, choices=[uuid.UUID(item) for item in value or []]
                    )
                )
            elif kind == Question.Kind.TRUE_FALSE:
                inputs.append(
                    services.AnswerInput(question=question.pk, value=value, has_value=True)
                )
            elif kind == Question.Kind.SHORT_TEXT:
                inputs.append(services.AnswerInput(question=question.pk, text=value or ""))
            else:
                inputs.append(
                    services.AnswerInput(question=question.pk, number=value, has_number=True)
                )
        return inputs

    def add_service_problems(self, error: ValidationError) -> None:
        """The service's problems (`answers[i].<field>`) next to the i-th question."""
        questions = self.view.questions
        for key, problems in error.message_dict.items():
            match = _ANSWER_FIELD.match(key)
            index = int(match.group(1)) if match else -1
            field = _field_name(questions[index]) if 0 <= index < len(questions) else None
            for problem in problems:
                self.add_error(field, problem)


def _question_rows(form: AttemptAnswersForm) -> list[dict[str, Any]]:
    """The questions in the attempt's order as the form shows them: text, points, inputs
    (choices in the attempt's order) with what is picked or typed, and errors."""
    rows = []
    for number, question in enumerate(form.view.questions, start=1):
        bound = form[_field_name(question)]
        value = bound.value()
        row: dict[str, Any] = {
            "number": number,
            "kind": question.kind,
            "name": bound.html_name,
            "dom_id": f"question-{question.pk}",
            "text_html": render_markdown(question.text),
            "points": question.points,
            "partial_credit": question.partial_credit,
            "errors": bound.errors,
            "value": "" if value is None or isinstance(value, list) else str(value),
        }
        if question.kind in (*Question.CHOICE_KINDS, Question.Kind.TRUE_FALSE):
            picked = set(value) if isinstance(value, list) else {value}
            field = cast(forms.ChoiceField, bound.field)
            row["choices"] = [
                {
                    "value": key,
                    "label": label,
                    "input_id": f"{row['dom_id']}-{index}",
                    "checked": key in picked,
                }
                for index, (key, label) in enumerate(field.choices, start=1)
            ]
        rows.append(row)
    return rows


def _attempt_page_url(attempt: Attempt) -> str:
    return reverse("assessments:attempt", kwargs={"pk": attempt.pk})


def _attempt_context(view: AttemptView) -> dict[str, Any]:
    attempt = view.attempt
    lesson = attempt.quiz.lesson
    return {
        "attempt": attempt,
        "quiz": attempt.quiz,
        "lesson": lesson,
        "course": lesson.module.course,
        "lesson_url": _lesson_page(lesson, "quiz"),
        "status": ATTEMPT_STATUS_LABELS[Attempt.Status(attempt.status)],
    }


def _render_attempt_form(
    request: HttpRequest, view: AttemptView, form: AttemptAnswersForm, *, status: int = 200
) -> HttpResponse:
    attempt = view.attempt
    now = timezone.now()
    seconds_left = (
        max(int((attempt.deadline - now).total_seconds()), 0) if attempt.deadline else None
    )
    context = {
        **_attempt_context(view),
        "form": form,
        "questions": _question_rows(form),
        "error_count": sum(len(errors) for errors in form.errors.values()),
        "deadline": datetime_label(attempt.deadline) if attempt.deadline else "",
        "seconds_left": seconds_left,
        "time_left": _clock_label(seconds_left) if seconds_left is not None else "",
        "is_past_deadline": attempt.is_past_deadline(now),
    }
    return render(request, "assessments/attempt_form.html", context, status=status)


def _choice_texts(choices: list[Choice], ids: set[uuid.UUID]) -> list[str]:
    return [choice.text for choice in choices if choice.pk in ids]


def _boolean_label(value: bool | None) -> str:
    if value is None:
        return ""
    return _("True") if value else _("False")


def _review_rows(view: AttemptView) -> list[dict[str, Any]]:
    """Each question with the learner's answer and, only when `view.reveal`, the result, the
    correct answer and the explanation."""
    rows = []
    for number, question in enumerate(view.questions, start=1):
        answer = view.answers.get(question.pk)
        choices = view.choices[question.pk]
        kind = question.kind
        if answer is None:
            given: list[str] = []
        elif kind in Question.CHOICE_KINDS:
            picked = {choice.pk for choice in answer.selected_choices.all()}
            given = _choice_texts(choices, picked)
        elif kind == Question.Kind.TRUE_FALSE:
            given = [_boolean_label(answer.boolean_response)]
        elif kind == Question.Kind.SHORT_TEXT:
            given = [answer.text_response]
        else:
            given = [_number_label(answer.number_response)]
        row: dict[str, Any] = {
            "number": number,
            "text_html": render_markdown(question.text),
            "points": question.points,
            "given": [text for text in given if text],
        }
        if view.reveal:
            row |= _answer_key(question, choices)
            row["is_correct"] = bool(answer and answer.is_correct)
            row["points_awarded"] = _number_label(answer.points_awarded if answer else None)
        rows.append(row)
    return rows


def _answer_key(question: Question, choices: list[Choice]) -> dict[str, Any]:
    """The correct answer as a line of text, and the explanation."""
    kind = question.kind
    if kind in Question.CHOICE_KINDS:
        # Multiple choice: every one of them; single choice: the one.
        correct = ", ".join(choice.text for choice in choices if choice.is_correct)
    elif kind == Question.Kind.TRUE_FALSE:
        correct = _boolean_label(question.correct_boolean)
    elif kind == Question.Kind.SHORT_TEXT:
        correct = _(" or ").join(str(answer) for answer in question.accepted_answers)
    else:
        correct = _number_label(question.numeric_value)
        if question.numeric_tolerance:
            correct = f"{correct} ± {_number_label(question.numeric_tolerance)}"
    explanation: SafeString | str = (
        render_markdown(question.explanation) if question.explanation else ""
    )
    return {"correct": correct, "explanation_html": explanation}


def _render_attempt_review(request: HttpRequest, view: AttemptView) -> HttpResponse:
    attempt = view.attempt
    context = {
        **_attempt_context(view),
        "questions": _review_rows(view),
        "reveal": view.reveal,
        "answers_policy": SHOW_ANSWERS_LABELS[Quiz.ShowAnswers(attempt.quiz.show_correct_answers)],
        "is_own": attempt.user_id == request.user.pk,
        "score_percent": _number_label(attempt.score_percent),
        "score_points": _number_label(attempt.score_points),
        "submitted_at": datetime_label(attempt.submitted_at) if attempt.submitted_at else "",
        "deadline": datetime_label(attempt.deadline) if attempt.deadline else "",
    }
    return render(request, "assessments/attempt_review.html", context)


@never_cache
@login_required
def attempt_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """GET: the learner's open attempt as a form (questions, countdown, save, submit), or an
    attempt's results. POST (`action` save or submit): save every answer, then submit if
    asked; after the deadline, what was saved in time is graded. 404 for anyone but the
    learner and the course's instructors and admins."""
    attempt = selectors.attempt_get_visible(user=request.user, pk=pk)
    is_open = attempt.status == Attempt.Status.IN_PROGRESS
    is_own = attempt.user_id == request.user.pk
    if request.method == "POST":
        if not is_own:
            return render_forbidden(
                request,
                message=_("Only the learner who started this attempt can answer it."),
                course=attempt.quiz.lesson.module.course,
            )
        if not is_open:
            messages.info(request, _("This attempt is already submitted."))
            return redirect(_attempt_page_url(attempt))
        return _attempt_post(request, attempt)
    view = selectors.attempt_view(attempt=attempt, user=request.user)
    if is_open and is_own:
        return _render_attempt_form(request, view, AttemptAnswersForm(view))
    return _render_attempt_review(request, view)


def _attempt_post(request: HttpRequest, attempt: Attempt) -> HttpResponse:
    """Save, then submit when asked or when the deadline has passed (two services, two
    transactions: the saved answers stay saved whatever the submit does)."""
    learner = _learner(request)
    view = selectors.attempt_view(attempt=attempt, user=learner)
    form = AttemptAnswersForm(view, request.POST)
    if not form.is_valid():
        return _render_attempt_form(request, view, form, status=400)
    is_expired = False
    try:
        services.attempt_save_answers(attempt=attempt, user=learner, answers=form.answer_inputs())
    except AttemptExpired:
        is_expired = True
    except AttemptClosed:
        messages.info(request, _("This attempt is already submitted."))
        return redirect(_attempt_page_url(attempt))
    except ValidationError as error:
        form.add_service_problems(error)
        return _render_attempt_form(request, view, form, status=400)
    if not is_expired and request.POST.get("action") != "submit":
        messages.success(request, _("Your answers are saved."))
        return redirect(_attempt_page_url(attempt))
    try:
        graded = services.attempt_submit(attempt=attempt, user=learner)
    except AttemptClosed:  # closed at its deadline by the periodic task meanwhile
        messages.info(request, _("This attempt is already submitted."))
        return redirect(_attempt_page_url(attempt))
    if graded.status == Attempt.Status.EXPIRED:
        messages.warning(
            request,
            _("The time ran out at %(time)s: only the answers saved before then were graded.")
            % {"time": datetime_label(graded.deadline) if graded.deadline else ""},
        )
    else:
        messages.success(request, _("Your attempt is submitted and graded."))
    return redirect(_attempt_page_url(attempt))


# --- The assignment part of the lesson player ---------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; each is checked by lms.uploads in the service."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        clean_one = super().clean
        if isinstance(data, list | tuple):
            return [clean_one(item, initial) for item in data]
        return [clean_one(data, initial)] if data else []


class SubmissionForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Your answer"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=100_000,
        required=False,
    )
    # Empty files are refused by the upload validator, with its own code.
    files = MultipleFileField(label=gettext_lazy("Files"), allow_empty_file=True, required=False)


def _upload_rules(assignment: Assignment) -> dict[str, Any]:
    """What the upload field accepts, as the form's help text and `accept` attribute."""
    extensions = sorted(assignment.allowed_extensions)
    largest = min(assignment.max_file_bytes, settings.UPLOADS_MAX_BYTES)
    return {
        "max_files": assignment.max_files,
        "accept": ",".join(f".{extension}" for extension in extensions),
        "types": ", ".join(extension.upper() for extension in extensions),
        "max_size": filesizeformat(largest),
    }


def _submission_data(submission: Submission) -> dict[str, Any]:
    assignment = submission.assignment
    is_graded = submission.status == Submission.Status.GRADED
    return {
        "status": submission.status,
        "status_label": SUBMISSION_STATUS_LABELS[Submission.Status(submission.status)],
        "is_late": submission.is_late,
        "submitted_at": datetime_label(submission.submitted_at),
        "text": submission.text,
        "files": [
            {
                "name": stored.original_name,
                "size": filesizeformat(stored.size),
                "url": reverse("assessments:submission-file", kwargs={"pk": stored.pk}),
            }
            for stored in submission.files.all()
        ],
        "has_grade": submission.points is not None,
        "points": _number_label(submission.points),
        "max_points": assignment.max_points,
        "passed": (
            submission.points >= assignment.passing_points
            if is_graded and submission.points is not None
            else None
        ),
        "feedback": submission.feedback,
        "graded_at": datetime_label(submission.graded_at) if submission.graded_at else "",
    }


def assignment_lesson_context(
    request: HttpRequest, lesson: Lesson, *, state: LearnerState, can_manage: bool
) -> dict[str, Any]:
    """The assignment of an assignment lesson in its player (registered with courses.views)."""
    try:
        assignment = selectors.assignment_get_for_lesson(lesson=lesson)
    except Http404:
        return {"assignment_panel": None}
    submissions = selectors.submission_list(assignment=assignment, user=request.user)
    submission = None if can_manage else submissions.first()
    panel = _assignment_panel(
        assignment, submission=submission, is_enrolled=state.is_enrolled, can_manage=can_manage
    )
    if can_manage:
        panel["submission_count"] = submissions.count()
    return {"assignment_panel": panel, "submission_form": SubmissionForm()}


def _assignment_panel(
    assignment: Assignment,
    *,
    submission: Submission | None,
    is_enrolled: bool,
    can_manage: bool,
) -> dict[str, Any]:
    """Instructions, due date and late policy, the learner's submission with its grade, and
    whether they can hand in (again) now; the service decides again when they do."""
    now = timezone.now()
    is_past_due = assignment.due_at is not None and now > assignment.due_at
    refuses_late = assignment.late_policy == Assignment.LatePolicy.REFUSE
    blocked = ""
    if not is_enrolled:
        blocked = "" if can_manage else _("Enrol in the course to hand in your work.")
    elif submission is not None and submission.status == Submission.Status.GRADED:
        blocked = _("Your work is graded and can no longer be changed.")
    elif is_past_due and refuses_late:
        blocked = _("The due date has passed: this assignment no longer accepts work.")
    return {
        "assignment": assignment,
        "instructions_html": (
            render_markdown(assignment.instructions) if assignment.instructions else ""
        ),
        "due_at": datetime_label(assignment.due_at) if assignment.due_at else "",
        "is_past_due": is_past_due,
        "late_policy": (
            _("Work handed in after the due date is refused.")
            if refuses_late
            else _("Work handed in after the due date is accepted and marked late.")
        ),
        "max_points": assignment.max_points,
        "passing_points": assignment.passing_points,
        "upload": _upload_rules(assignment),
        "submission": _submission_data(submission) if submission else None,
        "can_submit": is_enrolled and not blocked,
        "blocked": blocked,
        "can_manage": can_manage,
    }


def _add_submission_error(
    form: SubmissionForm, error: ApplicationError, files: list[UploadedFile]
) -> None:
    """A refusal of the service next to the field it is about; a refused file by its name."""
    if isinstance(error, UploadRejected):
        for key, problems in error.fields.items():
            match = _FILE_FIELD.fullmatch(key)
            name = files[int(match.group(1))].name if match else ""
            for problem in problems:
                message = _("%(name)s: %(problem)s") % {"name": name, "problem": problem}
                form.add_error("files", ValidationError(message, code=error.code))
        return
    texts = {
        "submission_empty": (None, _("Write an answer, add files, or both.")),
        "too_many_files": ("files", error.message),
        "assignment_past_due": (
            None,
            _("The due date has passed: this assignment no longer accepts work."),
        ),
    }
    field, message = texts.get(error.code, (None, error.message))
    form.add_error(field, ValidationError(message, code=error.code))


@login_required
def assignment_submit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """POST (multipart): hand in text and/or files, replacing an earlier submission until it
    is graded. Refused files and other problems come back next to the fields (the page with
    the form, 400/409); 429 past the upload rate. A GET shows the assignment's lesson."""
    assignment = selectors.assignment_get_visible(user=request.user, pk=pk)
    lesson = assignment.lesson
    lesson_page = _lesson_page(lesson, "assignment")
    if request.method != "POST":
        return redirect(lesson_page)
    form = SubmissionForm(request.POST, request.FILES)
    status = 400
    throttle = UploadRateThrottle()
    if not throttle.allow_request(request, None):  # type: ignore[arg-type]
        form.add_error(None, _("You have sent too many uploads. Try again later."))
        wait = throttle.wait()
        response = _render_submission_page(request, assignment, form, status=429)
        response["Retry-After"] = str(int(wait or 60))
        return response
    if form.is_valid():
        files = form.cleaned_data["files"]
        try:
            services.submission_submit(
                assignment=assignment,
                user=_learner(request),
                text=form.cleaned_data["text"],
                files=files,
            )
        except (NotEnrolled, LessonLocked) as error:
            return _forbidden(request, error, lesson)
        except SubmissionGraded:
            messages.error(request, _("Your work is graded and can no longer be changed."))
            return redirect(lesson_page)
        except ApplicationError as error:
            _add_submission_error(form, error, files)
            status = error.status_code
        else:
            messages.success(request, _("Your work is handed in."))
            return redirect(lesson_page)
    return _render_submission_page(request, assignment, form, status=status)


def _render_submission_page(
    request: HttpRequest, assignment: Assignment, form: SubmissionForm, *, status: int
) -> HttpResponse:
    lesson = assignment.lesson
    context = {
        "assignment": assignment,
        "lesson": lesson,
        "course": lesson.module.course,
        "lesson_url": _lesson_page(lesson, "assignment"),
        "submission_form": form,
        "upload": _upload_rules(assignment),
        "error_count": sum(len(errors) for errors in form.errors.values()),
    }
    return render(request, "assessments/submission_form.html", context, status=status)


@login_required
def submission_file_download(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """A submitted file, for its learner and the course's instructors and admins (404 for
    anyone else): a fresh short-lived signed link each time, so the page's link lasts."""
    stored = selectors.submission_file_get_readable(user=request.user, pk=pk)
    url = download_url(
        file=stored.file,
        kind=KIND_SUBMISSION_FILE,
        object_id=stored.pk,
        filename=stored.original_name,
    )
    return redirect(url)
