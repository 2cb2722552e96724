from django.urls import path

from assessments.api import views

app_name = "assessments_api"

# Explicit paths: lessons/{id}/... and courses/{id}/... sit beside the courses and
# enrollments routes without clashing with their routers.
urlpatterns = [
    path("lessons/<str:pk>/quiz/", views.LessonQuizView.as_view(), name="lesson-quiz"),
    path("quizzes/<str:pk>/", views.QuizDetailView.as_view(), name="quiz-detail"),
    path("quizzes/<str:pk>/questions/", views.QuizQuestionsView.as_view(), name="quiz-questions"),
    path("quizzes/<str:pk>/attempts/", views.QuizAttemptsView.as_view(), name="quiz-attempts"),
    path(
        "quizzes/<str:pk>/statistics/",
        views.QuizStatisticsView.as_view(),
        name="quiz-statistics",
    ),
    path("questions/<str:pk>/", views.QuestionDetailView.as_view(), name="question-detail"),
    path("attempts/<str:pk>/", views.AttemptDetailView.as_view(), name="attempt-detail"),
    path("attempts/<str:pk>/answers/", views.AttemptAnswersView.as_view(), name="attempt-answers"),
    path("attempts/<str:pk>/submit/", views.AttemptSubmitView.as_view(), name="attempt-submit"),
    path(
        "lessons/<str:pk>/assignment/",
        views.LessonAssignmentView.as_view(),
        name="lesson-assignment",
    ),
    path("assignments/<str:pk>/", views.AssignmentDetailView.as_view(), name="assignment-detail"),
    path(
        "assignments/<str:pk>/submissions/",
        views.AssignmentSubmissionsView.as_view(),
        name="assignment-submissions",
    ),
    path("submissions/<str:pk>/", views.SubmissionDetailView.as_view(), name="submission-detail"),
    path(
        "submissions/<str:pk>/grade/", views.SubmissionGradeView.as_view(), name="submission-grade"
    ),
    path("files/<str:token>/", views.FileDownloadView.as_view(), name="file-download"),
    path(
        "courses/<str:pk>/gradebook/",
        views.CourseGradebookView.as_view(),
        name="course-gradebook",
    ),
]
