import json
from pathlib import PurePosixPath
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from accounts.models import User
from courses.currencies import ISO_4217_CODES
from courses.models import Category, Course, Lesson, Module
from lms.uploads import KIND_LESSON_ATTACHMENT, download_url

MAX_METADATA_BYTES = 16 * 1024


# --- Output -------------------------------------------------------------------------------


class MoneySerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=0, help_text="Minor units (cents); 0 is free.")
    currency = serializers.ChoiceField(choices=ISO_4217_CODES, help_text="ISO 4217 code.")


class CategoryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent"]
        read_only_fields = fields


class InstructorOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "full_name"]
        read_only_fields = fields


class CourseListOutputSerializer(serializers.ModelSerializer):
    """A catalog entry: everything but the long description and metadata."""

    category = CategoryOutputSerializer(allow_null=True)
    owner = InstructorOutputSerializer()
    co_instructors = InstructorOutputSerializer(many=True)
    price = serializers.SerializerMethodField()
    is_free = serializers.BooleanField()
    seats_left = serializers.SerializerMethodField()
    cover_image = serializers.ImageField(allow_null=True, use_url=True)

    class Meta:
        model = Course
        fields = [
            "id",
            "slug",
            "title",
            "subtitle",
            "language",
            "level",
            "category",
            "cover_image",
            "price",
            "is_free",
            "status",
            "published_at",
            "owner",
            "co_instructors",
            "seat_capacity",
            "seats_left",
            "enrollment_count",
            "enrollment_opens_at",
            "enrollment_closes_at",
            "certificate_enabled",
        ]
        read_only_fields = fields

    @extend_schema_field(MoneySerializer)
    def get_price(self, course: Course) -> dict[str, Any]:
        return MoneySerializer({"amount": course.price_amount, "currency": course.currency}).data

    def get_seats_left(self, course: Course) -> int | None:
        if course.seat_capacity is None:
            return None
        return max(course.seat_capacity - course.enrollment_count, 0)


class CourseDetailOutputSerializer(CourseListOutputSerializer):
    class Meta(CourseListOutputSerializer.Meta):
        fields = [
            *CourseListOutputSerializer.Meta.fields,
            "description",
            "metadata",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ModuleOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Module
        fields = ["id", "course", "title", "description", "position"]
        read_only_fields = fields


class LessonSummaryOutputSerializer(serializers.ModelSerializer):
    has_attachment = serializers.SerializerMethodField()

    class Meta:
        model = Lesson
        fields = [
            "id",
            "module",
            "title",
            "kind",
            "position",
            "duration_seconds",
            "is_preview",
            "is_required",
            "available_from",
            "available_after_days",
            "has_attachment",
        ]
        read_only_fields = fields

    def get_has_attachment(self, lesson: Lesson) -> bool:
        return bool(lesson.attachment)


class LessonDetailOutputSerializer(LessonSummaryOutputSerializer):
    course = serializers.UUIDField(source="module.course_id")
    # A plain string in the schema: it is "" for lessons without a video, which is no URI.
    video_url = serializers.CharField(
        read_only=True, help_text="The video's URL; empty unless the lesson is a video."
    )
    attachment_url = serializers.SerializerMethodField(
        help_text=(
            "A short-lived download link (UPLOADS_SIGNED_URL_SECONDS): presigned on S3, "
            "otherwise files/{token}/, which checks your access again; null without attachment."
        )
    )

    class Meta(LessonSummaryOutputSerializer.Meta):
        fields = [
            *LessonSummaryOutputSerializer.Meta.fields,
            "course",
            "body",
            "video_url",
            "attachment_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_attachment_url(self, lesson: Lesson) -> str | None:
        if not lesson.attachment:
            return None
        return download_url(
            file=lesson.attachment,
            kind=KIND_LESSON_ATTACHMENT,
            object_id=lesson.pk,
            filename=PurePosixPath(lesson.attachment.name).name,
            request=self.context.get("request"),
        )


class OutlineLessonSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=Lesson.Kind.choices)
    position = serializers.IntegerField()
    duration_seconds = serializers.IntegerField()
    is_preview = serializers.BooleanField()
    is_required = serializers.BooleanField()
    available_from = serializers.DateTimeField(allow_null=True)
    available_after_days = serializers.IntegerField(allow_null=True)
    is_completed = serializers.BooleanField(help_text="Always false unless you are enrolled.")


class OutlineModuleSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    position = serializers.IntegerField()
    lessons = OutlineLessonSerializer(many=True)


class OutlineOutputSerializer(serializers.Serializer):
    course_id = serializers.UUIDField()
    is_enrolled = serializers.BooleanField()
    modules = OutlineModuleSerializer(many=True)


# --- Input --------------------------------------------------------------------------------


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id (or null where allowed); an empty string is refused, where DRF's own field would
    quietly take it for null, which the schema (a UUID) does not allow."""

    def run_validation(self, data: Any = empty) -> Any:
        if data == "":
            self.fail("incorrect_type", data_type="str")
        return super().run_validation(data)


class CategoryCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    slug = serializers.SlugField(max_length=100, required=False, default="")
    parent = StrictPrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True, default=None
    )


class CourseWriteInputSerializer(serializers.Serializer):
    """Fields of a course create; every field is optional on update (PATCH)."""

    title = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=120, required=False)
    subtitle = serializers.CharField(max_length=255, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    language = serializers.RegexField(
        r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=12, required=False
    )
    level = serializers.ChoiceField(choices=Course.Level.choices, required=False)
    category = StrictPrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    price = MoneySerializer(required=False)
    seat_capacity = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    enrollment_opens_at = serializers.DateTimeField(required=False, allow_null=True)
    enrollment_closes_at = serializers.DateTimeField(required=False, allow_null=True)
    metadata = serializers.DictField(required=False)
    certificate_enabled = serializers.BooleanField(required=False)
    co_instructors = StrictPrimaryKeyRelatedField(
        queryset=User.objects.all(), many=True, required=False
    )

    def validate_metadata(self, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value)) > MAX_METADATA_BYTES:
            raise serializers.ValidationError(
                f"Keep metadata under {MAX_METADATA_BYTES // 1024} KB.", code="too_large"
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        price = attrs.pop("price", None)
        if price is not None:
            attrs["price_amount"] = price["amount"]
            attrs["currency"] = price["currency"]
        return attrs


class ModuleWriteInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class LessonWriteInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Lesson.Kind.choices, required=False)
    body = serializers.CharField(required=False, allow_blank=True, help_text="Markdown.")
    video_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    duration_seconds = serializers.IntegerField(min_value=0, required=False)
    is_preview = serializers.BooleanField(required=False)
    is_required = serializers.BooleanField(required=False)
    available_from = serializers.DateTimeField(required=False, allow_null=True)
    available_after_days = serializers.IntegerField(
        min_value=0, max_value=3650, required=False, allow_null=True
    )


class ReorderInputSerializer(serializers.Serializer):
    order = serializers.ListField(
        child=serializers.UUIDField(),
        max_length=1000,
        help_text="Every id of the collection, once each, in the new order.",
    )
