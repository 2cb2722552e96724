from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from courses.models import Course, Lesson, Module
from courses.selectors import user_can_manage_course


class IsInstructorOrAdmin(BasePermission):
    """May author courses: the instructor and admin roles."""

    message = "Only instructors and admins can create courses."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_instructor or user.is_admin))


class CanManageCourse(BasePermission):
    """The course's owner and co-instructors, and admins (object level: course, module, lesson)."""

    message = "Only the course's instructors and admins can change it."

    def has_object_permission(self, request: Request, view: APIView, obj: object) -> bool:
        if isinstance(obj, Lesson):
            course = obj.module.course
        elif isinstance(obj, Module):
            course = obj.course
        elif isinstance(obj, Course):
            course = obj
        else:
            return False
        return user_can_manage_course(user=request.user, course=course)
