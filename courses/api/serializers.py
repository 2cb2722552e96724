import json
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from courses.currencies import ISO_4217_CODES
from courses.models import Category, Course, Lesson, Module

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

    class Meta(LessonSummaryOutputSerializer.Meta):
        fields = [
            *LessonSummaryOutputSerializer.Meta.fields,
            "course",
            "body",
            "video_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


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


class CategoryCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    slug = serializers.SlugField(max_length=100, required=False, default="")
    parent = serializers.PrimaryKeyRelatedField(
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
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    price = MoneySerializer(required=False)
    seat_capacity = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    enrollment_opens_at = serializers.DateTimeField(required=False, allow_null=True)
    enrollment_closes_at = serializers.DateTimeField(required=False, allow_null=True)
    metadata = serializers.DictField(required=False)
    certificate_enabled = serializers.BooleanField(required=False)
    co_instructors = serializers.PrimaryKeyRelatedField(
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
