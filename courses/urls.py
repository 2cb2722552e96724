"""Course and lesson pages (the catalog itself is the home page, mounted in lms/urls.py)."""

from django.urls import path

from courses import views

app_name = "courses"

urlpatterns = [
    path("courses/<slug:slug>/", views.course_detail, name="detail"),
    path("courses/<slug:slug>/lessons/<uuid:lesson_id>/", views.lesson_detail, name="lesson"),
    path(
        "courses/<slug:slug>/lessons/<uuid:lesson_id>/download/",
        views.lesson_attachment_download,
        name="lesson-download",
    ),
]
