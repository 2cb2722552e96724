"""The back office for outgoing webhooks (admins only; instructors do not see it).

Endpoints are created and changed through the services (the same URL rules as the API).
Deliveries are read-only, with every attempt inline and a "Redeliver" action.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from lms import events
from lms.exceptions import ApplicationError
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def _is_back_office(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_staff and user.is_admin)


class BackOfficeOnly:
    """Admins (the role or superusers) only, whatever their Django model permissions."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_back_office(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_back_office(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_back_office(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_back_office(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_back_office(request)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        max_length=2000, assume_scheme="https", help_text="Where events are POSTed."
    )
    events = forms.MultipleChoiceField(
        choices=[(name, name) for name in events.EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "secret", "is_active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            services.webhook_url_check(url)
        except ApplicationError as error:
            raise ValidationError(error.message) from error
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(BackOfficeOnly, admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "is_active", "subscribed_events", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]

    @admin.display(description="events")
    def subscribed_events(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: forms.ModelForm, change: bool
    ) -> None:
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        if change:
            existing = WebhookEndpoint.objects.get(pk=obj.pk)
            changed = {name: value for name, value in values.items() if name in form.changed_data}
            saved = services.webhook_endpoint_update(endpoint=existing, **changed)
        else:
            saved = services.webhook_endpoint_create(**values)
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        services.webhook_endpoint_delete(endpoint=obj)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = [
        "number",
        "created_at",
        "outcome",
        "status_code",
        "duration_ms",
        "error",
        "response_excerpt",
    ]
    readonly_fields = fields
    ordering = ["number"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_back_office(request)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(BackOfficeOnly, admin.ModelAdmin):
    list_display = [
        "event_type",
        "endpoint",
        "status",
        "attempt_count",
        "last_status_code",
        "queued_at",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event__type", "endpoint"]
    search_fields = ["event__id", "endpoint__url"]
    list_select_related = ["event", "endpoint"]
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]
    readonly_fields = [
        "endpoint",
        "event_id_shown",
        "event_type",
        "event_data",
        "status",
        "attempt_count",
        "last_status_code",
        "last_error",
        "queued_at",
        "next_attempt_at",
        "deliver_until",
        "delivered_at",
    ]
    fields = readonly_fields

    @admin.display(description="event", ordering="event__type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type

    @admin.display(description="event id")
    def event_id_shown(self, delivery: WebhookDelivery) -> str:
        return str(delivery.event_id)

    @admin.display(description="data")
    def event_data(self, delivery: WebhookDelivery) -> str:
        return services.webhook_body(delivery.event).decode()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # read-only; the action changes the status through the service

    @admin.action(description="Redeliver the selected deliveries")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = 0
        for delivery in queryset.order_by("queued_at", "pk"):
            services.webhook_delivery_redeliver(delivery=delivery)
            count += 1
        self.message_user(request, f"{count} delivery(ies) queued again.", messages.SUCCESS)
