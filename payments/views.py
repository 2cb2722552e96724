"""Buying pages: the buy form's checkout, the hand-over to the payment page, the order
(return) page and my orders.

Each view is one call to the same service or selector as the API (payments.services.
order_checkout, payments.selectors); refusals become flash messages on the course page.
"""

import uuid
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from accounts.models import User
from courses.selectors import course_get_visible
from courses.views import datetime_label, price_label
from lms.exceptions import ApplicationError
from payments import selectors, services
from payments.models import Order
from payments.money import format_money

ORDERS_PAGE_SIZE = 20


class CheckoutForm(forms.Form):
    coupon = forms.CharField(label=gettext_lazy("Coupon code"), max_length=40, required=False)


def _buyer(request: HttpRequest) -> User:
    """The signed-in user of a login_required view."""
    return cast(User, request.user)


def _refusal_message(error: ApplicationError) -> str:
    """The buyer-facing (translatable) text for a checkout refusal, by its stable code."""
    texts = {
        "email_not_verified": _(
            "Verify your email address before you buy: follow the link in the email we sent "
            "you, or ask for a new one on your profile page."
        ),
        "course_is_free": _("This course is free: enrol without paying."),
        "course_not_found": _("This course is not published yet."),
        "course_archived": _("This course is archived and no longer takes enrolments."),
        "enrollment_closed": _("Enrolment for this course is closed."),
        "already_enrolled": _("You are already enrolled in this course."),
        "course_full": _("Every seat in this course is taken."),
        "coupon_not_found": _("No coupon has this code."),
        "coupon_inactive": _("This coupon has been switched off."),
        "coupon_not_yet_valid": _("This coupon is not valid yet."),
        "coupon_expired": _("This coupon has expired."),
        "coupon_exhausted": _("This coupon has been used as many times as it may be."),
        "coupon_not_applicable": _("This coupon is not valid for this course."),
        "coupon_currency_mismatch": _("This coupon is in another currency than the course."),
        "payments_unavailable": _("Payments are not available right now. Please try later."),
        "payment_provider_error": _("The payment provider refused the payment. Please try later."),
        "payment_provider_unreachable": _(
            "The payment provider could not be reached. Please try again in a moment."
        ),
    }
    return texts.get(error.code, error.message)


def _money(amount: int, currency: str) -> str:
    """Minor units as the pages show prices ("49.00 USD"); zero as an amount, not "Free"."""
    return price_label(amount=amount, currency=currency) if amount else format_money(0, currency)


def _order_row(order: Order) -> dict[str, Any]:
    """What a receipt shows, as plain values."""
    return {
        "order": order,
        "course": order.course,
        "status_label": order.get_status_display(),
        "list_price": _money(order.list_amount, order.currency),
        "discount": _money(order.discount_amount, order.currency) if order.discount_amount else "",
        "total": _money(order.amount, order.currency),
        "refunded": (
            _money(order.amount_refunded, order.currency) if order.amount_refunded else ""
        ),
        "coupon": order.coupon.code if order.coupon else "",
        "created_at": datetime_label(order.created_at),
        "paid_at": datetime_label(order.paid_at) if order.paid_at else "",
    }


def _own_order(request: HttpRequest, pk: uuid.UUID) -> Order:
    """The buyer's order (admins see any); 404 for everyone else."""
    try:
        return selectors.order_get_visible(user=request.user, pk=pk)
    except Order.DoesNotExist:
        raise Http404 from None


def _checkout_is_open(order: Order) -> bool:
    return (
        order.status == Order.Status.PENDING
        and order.checkout_url.startswith("https://")
        and (order.checkout_expires_at is None or order.checkout_expires_at > timezone.now())
    )


@login_required
def checkout(request: HttpRequest, slug: str) -> HttpResponse:
    """POST (the course page's buy form): an order and the provider's payment page."""
    course = course_get_visible(user=request.user, id_or_slug=slug)
    course_page = redirect("courses:detail", slug=course.slug)
    if request.method != "POST":
        return course_page
    form = CheckoutForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A coupon code has at most 40 characters."))
        return course_page
    try:
        result = services.order_checkout(
            user=_buyer(request), course=course, coupon_code=form.cleaned_data["coupon"]
        )
    except ApplicationError as error:
        messages.error(request, _refusal_message(error))
        return course_page
    if not result.checkout_url:  # a coupon covered the whole price: paid and enrolled
        messages.success(
            request,
            _("Your coupon covers the whole price: you are enrolled in %(course)s.")
            % {"course": course.title},
        )
        return redirect("payments:order", pk=result.order.pk)
    # Through a page of this site: browsers apply the form's CSP form-action ('self') to
    # redirects that follow a form submission, so a redirect straight to the provider fails.
    return redirect("payments:pay", pk=result.order.pk)


@login_required
@never_cache
def pay(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Hands the buyer over to the provider's payment page of a pending order."""
    order = _own_order(request, pk)
    if order.user_id != request.user.pk or not _checkout_is_open(order):
        return redirect("payments:order", pk=order.pk)
    return render(request, "payments/pay.html", {"order": order})


@login_required
@never_cache
def order_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """The receipt, and the return page from the provider: paid, waiting or not paid."""
    order = _own_order(request, pk)
    context = {
        **_order_row(order),
        "left_checkout": request.GET.get("checkout") == "cancelled",
        "checkout_is_open": _checkout_is_open(order) and order.user_id == request.user.pk,
        "is_enrolled": order.status == Order.Status.PAID and order.enrollment_id is not None,
    }
    return render(request, "payments/order_detail.html", context)


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    """My orders (receipts), newest first."""
    paginator = Paginator(selectors.order_list_for_user(user=_buyer(request)), ORDERS_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {"page": page, "orders": [_order_row(order) for order in page]}
    return render(request, "payments/order_list.html", context)
