from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from courses.models import Course
from enrollments.models import Enrollment, LessonProgress


class EnrolledCourseSerializer(serializers.ModelSerializer):
    cover_image = serializers.ImageField(allow_null=True, use_url=True)

    class Meta:
        model = Course
        fields = ["id", "slug", "title", "subtitle", "cover_image", "status"]
        read_only_fields = fields


class EnrollmentOutputSerializer(serializers.ModelSerializer):
    course = EnrolledCourseSerializer()

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "user",
            "course",
            "status",
            "source",
            "progress_percent",
            "enrolled_at",
            "completed_at",
            "cancelled_at",
            "last_accessed_at",
        ]
        read_only_fields = fields


class NextLessonSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()


class MyEnrollmentOutputSerializer(EnrollmentOutputSerializer):
    next_lesson = serializers.SerializerMethodField(
        help_text="The first lesson not yet completed, in reading order; null when all are done."
    )

    class Meta(EnrollmentOutputSerializer.Meta):
        fields = [*EnrollmentOutputSerializer.Meta.fields, "next_lesson"]
        read_only_fields = fields

    @extend_schema_field(NextLessonSerializer(allow_null=True))
    def get_next_lesson(self, enrollment: Any) -> dict[str, Any] | None:
        # next_lesson_* are annotations of selectors.enrollment_list_for_learner.
        if enrollment.next_lesson_id is None:
            return None
        return {"id": enrollment.next_lesson_id, "title": enrollment.next_lesson_title}


class EnrollmentProgressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Enrollment
        fields = ["id", "status", "progress_percent", "completed_at"]
        read_only_fields = fields


class LessonProgressOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = LessonProgress
        fields = ["lesson", "completed_at", "position_seconds", "time_spent_seconds"]
        read_only_fields = fields


class LessonCompleteOutputSerializer(serializers.Serializer):
    progress = LessonProgressOutputSerializer()
    enrollment = EnrollmentProgressSerializer()


class LessonProgressInputSerializer(serializers.Serializer):
    position_seconds = serializers.IntegerField(
        min_value=0, max_value=24 * 3600, help_text="Where playback stands."
    )
    time_spent_seconds = serializers.IntegerField(
        min_value=0,
        max_value=3600,
        default=0,
        help_text="Seconds spent since the previous call (added to the total).",
    )


class RosterRowSerializer(serializers.ModelSerializer):
    """One learner of the roster; flat, so the same shape serves JSON and CSV."""

    enrollment_id = serializers.UUIDField(source="id")
    user_id = serializers.UUIDField(source="user.id")
    full_name = serializers.CharField(source="user.full_name")
    email = serializers.EmailField(source="user.email")

    class Meta:
        model = Enrollment
        fields = [
            "enrollment_id",
            "user_id",
            "full_name",
            "email",
            "status",
            "source",
            "progress_percent",
            "enrolled_at",
            "completed_at",
            "last_accessed_at",
        ]
        read_only_fields = fields


class EnrollmentCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    active = serializers.IntegerField()
    completed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    refunded = serializers.IntegerField()


class LessonFunnelSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    module_position = serializers.IntegerField()
    position = serializers.IntegerField()
    is_required = serializers.BooleanField()
    completions = serializers.IntegerField()
    completion_rate = serializers.FloatField(help_text="Share of current learners, 0 to 1.")


class CourseAnalyticsOutputSerializer(serializers.Serializer):
    enrollments = EnrollmentCountsSerializer()
    completion_rate = serializers.FloatField(help_text="Completed / (active + completed).")
    average_progress = serializers.FloatField(help_text="Mean percent of current learners.")
    lessons = LessonFunnelSerializer(many=True)
    sections = serializers.DictField(
        child=serializers.DictField(),
        help_text="Figures other parts add, by name (e.g. `revenue`, `quizzes`).",
    )
