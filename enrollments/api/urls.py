from django.urls import path

from enrollments.api import views

app_name = "enrollments_api"

urlpatterns = [
    path("courses/<str:pk>/enroll/", views.CourseEnrollView.as_view(), name="course-enroll"),
    path(
        "courses/<str:pk>/analytics/", views.CourseAnalyticsView.as_view(), name="course-analytics"
    ),
    path("courses/<str:pk>/students/", views.CourseStudentsView.as_view(), name="course-students"),
    path("enrollments/<str:pk>/", views.EnrollmentDetailView.as_view(), name="enrollment-detail"),
    path(
        "enrollments/<str:pk>/cancel/",
        views.EnrollmentCancelView.as_view(),
        name="enrollment-cancel",
    ),
    path("lessons/<str:pk>/complete/", views.LessonCompleteView.as_view(), name="lesson-complete"),
    path("lessons/<str:pk>/progress/", views.LessonProgressView.as_view(), name="lesson-progress"),
    path("me/enrollments/", views.MyEnrollmentsView.as_view(), name="my-enrollments"),
]
