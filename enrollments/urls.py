"""Learning pages: the dashboard, enrolling, leaving a course and completing lessons."""

from django.urls import path

from enrollments import views

app_name = "enrollments"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("courses/<slug:slug>/enroll/", views.course_enroll, name="enroll"),
    path("enrollments/<uuid:pk>/cancel/", views.enrollment_cancel, name="cancel"),
    path("lessons/<uuid:pk>/complete/", views.lesson_complete, name="lesson-complete"),
]
