"""Quiz and assignment pages. The quiz and assignment parts of the lesson player come from
assessments.views through courses.views.register_lesson_kind_context (see apps.py)."""

from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
    path("quizzes/<uuid:pk>/start/", views.quiz_attempt_start, name="quiz-start"),
    path("attempts/<uuid:pk>/", views.attempt_detail, name="attempt"),
    path("assignments/<uuid:pk>/submit/", views.assignment_submit, name="assignment-submit"),
    path(
        "submission-files/<uuid:pk>/",
        views.submission_file_download,
        name="submission-file",
    ),
]
