"""Server-rendered catalog, course and lesson pages.

They read through the same selectors, filters and caches as the API (courses.selectors,
courses.filters.CourseFilter, courses.caching); what is computed here is presentation only:
labels, links and the order of the outline.
"""

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qs, urlsplit

import nh3
from csp.decorators import csp_update
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import get_language, get_language_info, ngettext
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from accounts.models import User
from courses import caching, hooks, selectors
from courses.errors import LessonLocked, NotEnrolled
from courses.filters import CourseFilter
from courses.models import Course, Lesson
from lms.uploads import KIND_LESSON_ATTACHMENT, download_url

CATALOG_PAGE_SIZE = 12
# The catalog page offers the public filters only, so every visitor sees (and caches) the same
# pages; `mine` and `status` stay API parameters.
CATALOG_PARAMETERS = ("search", "category", "level", "language", "price", "ordering")

# Currencies whose minor unit is not a hundredth (ISO 4217 exponents 0 and 3).
_ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"}
    | {"RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"}
)
_THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})

# Raw HTML in lesson bodies is escaped by the parser, and the output is sanitised again (nh3:
# an allow-list of tags, attributes and URL schemes), so a body can never carry a script.
_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
# The lesson player may frame these video players, and nothing else (the site's CSP).
_VIDEO_PLAYERS_CSP = csp_update(
    {"frame-src": ["https://www.youtube-nocookie.com", "https://player.vimeo.com"]}
)
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{6,20}$")
_VIMEO_ID = re.compile(r"^[0-9]{1,15}$")


# --- Presentation helpers (also used by the enrollments pages) -----------------------------


def price_label(*, amount: int, currency: str) -> str:
    """`4900, "USD"` -> "49.00 USD" (grouped and punctuated for the active language)."""
    if amount == 0:
        return _("Free")
    if currency in _ZERO_DECIMAL_CURRENCIES:
        exponent = 0
    elif currency in _THREE_DECIMAL_CURRENCIES:
        exponent = 3
    else:
        exponent = 2
    number = formats.number_format(
        Decimal(amount).scaleb(-exponent), decimal_pos=exponent, force_grouping=True
    )
    return f"{number} {currency}"


def datetime_label(value: datetime) -> str:
    local = timezone.localtime(value)
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} ({local.tzname()})"


def lesson_url(*, course_slug: str, lesson_id: uuid.UUID) -> str:
    return reverse("courses:lesson", kwargs={"slug": course_slug, "lesson_id": lesson_id})


def render_forbidden(
    request: HttpRequest,
    *,
    message: str,
    course: Course | None = None,
    unlocks_at: datetime | None = None,
) -> HttpResponse:
    """The 403 page with the reason and a way back to the course."""
    context = {"exception": message, "course": course, "unlocks_at": unlocks_at}
    return render(request, "403.html", context, status=403)


def lesson_access_message(error: NotEnrolled | LessonLocked) -> str:
    if isinstance(error, LessonLocked):
        return _("This lesson opens on %(time)s.") % {"time": datetime_label(error.unlocks_at)}
    return _("Enrol in the course to open this lesson.")


def _language_label(code: str) -> str:
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def _duration_label(seconds: int) -> str:
    if not seconds:
        return ""
    minutes = max(round(seconds / 60), 1)
    if minutes < 60:
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    hours, minutes = divmod(minutes, 60)
    return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}


def _seats_left(course: Course) -> int | None:
    if course.seat_capacity is None:
        return None
    return max(course.seat_capacity - course.enrollment_count, 0)


def _instructor_names(course: Course) -> list[str]:
    """The owner first, then the co-instructors (prefetched by the catalog selector)."""
    people = {person.pk: person for person in [course.owner, *course.co_instructors.all()]}
    return [person.full_name or person.email for person in people.values()]


def render_markdown(text: str) -> SafeString:
    html = nh3.clean(
        _markdown.render(text),
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(html)  # noqa: S308  (sanitised by nh3 just above)


def video_embed_url(url: str) -> str | None:
    """A privacy-friendly player URL for YouTube and Vimeo links over https; None otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return None
    host = parts.hostname.removeprefix("www.").removeprefix("m.")
    segments = [segment for segment in parts.path.split("/") if segment]
    if host in ("youtube.com", "youtube-nocookie.com"):
        if parts.path == "/watch":
            video_id = parse_qs(parts.query).get("v", [""])[0]
        elif len(segments) >= 2 and segments[0] in ("embed", "shorts", "live"):
            video_id = segments[1]
        else:
            return None
        if _YOUTUBE_ID.match(video_id):
            return f"https://www.youtube-nocookie.com/embed/{video_id}"
        return None
    if host == "youtu.be" and segments and _YOUTUBE_ID.match(segments[0]):
        return f"https://www.youtube-nocookie.com/embed/{segments[0]}"
    if host == "vimeo.com" and segments and _VIMEO_ID.match(segments[0]):
        return f"https://player.vimeo.com/video/{segments[0]}"
    is_vimeo_player = host == "player.vimeo.com" and segments[:1] == ["video"]
    if is_vimeo_player and len(segments) >= 2 and _VIMEO_ID.match(segments[1]):
        return f"https://player.vimeo.com/video/{segments[1]}"
    return None


def _signed_in_user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


# --- Catalog --------------------------------------------------------------------------------


def _course_card(course: Course) -> dict[str, Any]:
    """One catalog entry as plain data (cached with the page)."""
    return {
        "slug": course.slug,
        "title": course.title,
        "subtitle": course.subtitle,
        "category": course.category.name if course.category else "",
        "level": course.get_level_display(),
        "language": _language_label(course.language),
        "price": price_label(amount=course.price_amount, currency=course.currency),
        "is_free": course.is_free,
        "seats_left": _seats_left(course),
        "instructors": _instructor_names(course),
        "cover_url": course.cover_image.url if course.cover_image else "",
    }


def _catalog_page_data(courses: QuerySet[Course], page_number: str) -> dict[str, Any]:
    paginator = Paginator(courses, CATALOG_PAGE_SIZE)
    page = paginator.get_page(page_number)
    return {
        "count": paginator.count,
        "number": page.number,
        "num_pages": paginator.num_pages,
        "previous": page.previous_page_number() if page.has_previous() else None,
        "next": page.next_page_number() if page.has_next() else None,
        "courses": [_course_card(course) for course in page],
    }


def catalog(request: HttpRequest) -> HttpResponse:
    """The home page: published courses with search, filters and pages."""
    params = QueryDict(mutable=True)
    for name in CATALOG_PARAMETERS:
        if value := request.GET.get(name, "").strip():
            params[name] = value
    filterset = CourseFilter(
        params, selectors.course_list_for_catalog(user=request.user), request=request
    )
    context: dict[str, Any] = {
        "filters": params,
        "categories": selectors.category_list(),
        "levels": Course.Level.choices,
        "is_filtered": bool(params),
    }
    if not filterset.is_valid():
        context["errors"] = filterset.form.errors
        return render(request, "courses/catalog.html", context, status=400)
    page_number = request.GET.get("page", "")
    page_number = page_number if page_number.isdigit() else "1"  # as Paginator.get_page does
    key = f"page:{get_language()}:{params.urlencode()}:{page_number}"
    context["page"] = caching.catalog_page(
        key, lambda: _catalog_page_data(filterset.qs, page_number)
    )
    return render(request, "courses/catalog.html", context)


# --- Course page ---------------------------------------------------------------------------


def _outline_rows(
    *,
    course: Course,
    outline: dict[str, Any],
    state: hooks.LearnerState,
    can_manage: bool,
    current_lesson_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """Modules with their lessons, each saying whether the viewer can open it now.

    Mirrors selectors.lesson_check_access: previews and managers always open a lesson,
    enrolled learners once it is released (its unlock time is shown until then).
    """
    now = timezone.now()
    modules = []
    for module in outline["modules"]:
        lessons = []
        for row in module["lessons"]:
            unlocks_at = Lesson(
                available_from=row["available_from"],
                available_after_days=row["available_after_days"],
            ).unlocks_at(state.enrolled_at)
            bypasses_locks = row["is_preview"] or can_manage
            is_locked = not bypasses_locks and unlocks_at is not None and unlocks_at > now
            can_open = bypasses_locks or (state.is_enrolled and not is_locked)
            lessons.append(
                {
                    "id": row["id"],
                    "title": row["title"],
                    "kind": row["kind"],
                    "kind_label": Lesson.Kind(row["kind"]).label,
                    "duration": _duration_label(row["duration_seconds"]),
                    "is_preview": row["is_preview"],
                    "is_required": row["is_required"],
                    "is_completed": row["id"] in state.completed_lesson_ids,
                    "is_current": row["id"] == current_lesson_id,
                    "is_locked": is_locked,
                    "unlocks_at": datetime_label(unlocks_at) if is_locked and unlocks_at else "",
                    "drip_days": (
                        row["available_after_days"]
                        if not state.is_enrolled and not bypasses_locks
                        else None
                    ),
                    "url": (
                        lesson_url(course_slug=course.slug, lesson_id=row["id"]) if can_open else ""
                    ),
                }
            )
        modules.append({"title": module["title"], "lessons": lessons})
    return modules


def _reading_order(modules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [lesson for module in modules for lesson in module["lessons"]]


def _course_outline(course: Course) -> dict[str, Any]:
    return caching.course_outline(course.pk, lambda: selectors.course_outline_data(course=course))


def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Description, outline (previews open to all), instructors, price and the enrol panel."""
    course = selectors.course_get_visible(user=request.user, id_or_slug=slug)
    state = hooks.learner_state(user=_signed_in_user(request), course_id=course.pk)
    can_manage = selectors.user_can_manage_course(user=request.user, course=course)
    modules = _outline_rows(
        course=course, outline=_course_outline(course), state=state, can_manage=can_manage
    )
    lessons = _reading_order(modules)
    now = timezone.now()
    next_lesson = next((lesson for lesson in lessons if not lesson["is_completed"]), None)
    context = {
        "course": course,
        "modules": modules,
        "lesson_count": len(lessons),
        "state": state,
        "can_manage": can_manage,
        "next_lesson": next_lesson or (lessons[0] if lessons else None),
        "all_completed": bool(lessons) and next_lesson is None,
        "price": price_label(amount=course.price_amount, currency=course.currency),
        "seats_left": _seats_left(course),
        "is_open": course.is_open_for_enrollment(now),
        "opens_at": (  # shown while the enrolment window has not opened yet
            datetime_label(course.enrollment_opens_at)
            if course.enrollment_opens_at and course.enrollment_opens_at > now
            else ""
        ),
        "instructors": _instructor_names(course),
        "language": _language_label(course.language),
    }
    return render(request, "courses/course_detail.html", context)


# --- Lesson player -------------------------------------------------------------------------

# The part of the player of some lesson kinds (quiz, assignment) needs more than the lesson:
# the app that owns the kind registers a provider of that part's template context in its
# AppConfig.ready(), so courses never imports it.
LessonKindContext = Callable[..., dict[str, Any]]
_lesson_kind_context: dict[str, LessonKindContext] = {}


def register_lesson_kind_context(kind: str, provider: LessonKindContext) -> None:
    """provider(request, lesson, *, state, can_manage) -> extra context for the kind's part.

    One provider per kind; registering again replaces it.
    """
    _lesson_kind_context[kind] = provider


def _lesson_refusal(
    request: HttpRequest, lesson: Lesson, slug: str, path_suffix: str
) -> HttpResponse | None:
    """Why the user may not read this lesson now, as a response; None when they may.

    Visitors go to the login page (and come back); signed-in users get the 403 page.
    """
    course = lesson.module.course
    if course.slug != slug:
        return redirect(lesson_url(course_slug=course.slug, lesson_id=lesson.pk) + path_suffix)
    try:
        selectors.lesson_check_access(user=request.user, lesson=lesson)
    except (NotEnrolled, LessonLocked) as error:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        unlocks_at = error.unlocks_at if isinstance(error, LessonLocked) else None
        return render_forbidden(
            request, message=lesson_access_message(error), course=course, unlocks_at=unlocks_at
        )
    return None


@_VIDEO_PLAYERS_CSP
def lesson_detail(request: HttpRequest, slug: str, lesson_id: uuid.UUID) -> HttpResponse:
    """One lesson with the course outline, previous/next and the mark-complete button."""
    lesson = selectors.lesson_get_visible(user=request.user, pk=lesson_id)
    course = lesson.module.course
    if refusal := _lesson_refusal(request, lesson, slug, path_suffix=""):
        return refusal
    state = hooks.learner_state(user=_signed_in_user(request), course_id=course.pk)
    can_manage = selectors.user_can_manage_course(user=request.user, course=course)
    modules = _outline_rows(
        course=course,
        outline=_course_outline(course),
        state=state,
        can_manage=can_manage,
        current_lesson_id=lesson.pk,
    )
    lessons = _reading_order(modules)
    # The outline is cached; a lesson added a moment ago may not be in it yet.
    index = next((i for i, row in enumerate(lessons) if row["id"] == lesson.pk), None)
    context = {
        "course": course,
        "lesson": lesson,
        "modules": modules,
        "state": state,
        "can_manage": can_manage,
        "is_completed": lesson.pk in state.completed_lesson_ids,
        "previous_lesson": lessons[index - 1] if index else None,
        "next_lesson": (
            lessons[index + 1] if index is not None and index + 1 < len(lessons) else None
        ),
        "position": index + 1 if index is not None else None,
        "lesson_count": len(lessons),
        "body_html": render_markdown(lesson.body) if lesson.body else "",
        "video_embed_url": video_embed_url(lesson.video_url) if lesson.video_url else None,
        "video_is_secure": lesson.video_url.startswith("https://"),
        "duration": _duration_label(lesson.duration_seconds),
        "attachment_type": PurePosixPath(lesson.attachment.name).suffix.lstrip(".").upper(),
        # Each lesson kind has its own part; later apps (quizzes, assignments) replace theirs.
        "kind_templates": [
            f"courses/lesson_kinds/{lesson.kind}.html",
            "courses/lesson_kinds/text.html",
        ],
    }
    if provider := _lesson_kind_context.get(lesson.kind):
        context.update(provider(request, lesson, state=state, can_manage=can_manage))
    return render(request, "courses/lesson_detail.html", context)


def lesson_attachment_download(
    request: HttpRequest, slug: str, lesson_id: uuid.UUID
) -> HttpResponse:
    """The lesson's file: a fresh short-lived signed link each time, so the page's link lasts."""
    lesson = selectors.lesson_get_visible(user=request.user, pk=lesson_id)
    if refusal := _lesson_refusal(request, lesson, slug, path_suffix="download/"):
        return refusal
    if not lesson.attachment:
        raise Http404
    extension = PurePosixPath(lesson.attachment.name).suffix
    url = download_url(
        file=lesson.attachment,
        kind=KIND_LESSON_ATTACHMENT,
        object_id=lesson.pk,
        filename=f"{slugify(lesson.title) or 'attachment'}{extension}",
    )
    return redirect(url)
