from rest_framework.routers import SimpleRouter

from courses.api import views

app_name = "courses_api"

router = SimpleRouter()
router.register("categories", views.CategoryViewSet, basename="category")
router.register("courses", views.CourseViewSet, basename="course")
router.register("modules", views.ModuleViewSet, basename="module")
router.register("lessons", views.LessonViewSet, basename="lesson")

urlpatterns = router.urls
