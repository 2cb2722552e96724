"""Real concurrent requests on PostgreSQL: a payment enrols once, a coupon is never over-used.

Each thread is a separate client with its own database connection, released together by a
barrier (as in enrollments/tests/test_concurrency.py). Stripe is the in-memory fake behind
`responses`, which answers every thread.
"""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from courses.tests.factories import course_with_content
from enrollments.models import Enrollment
from payments.models import Coupon, Order, WebhookEvent
from payments.tests.conftest import completed_event, event, post_event, session_object
from payments.tests.factories import CouponFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONNECTIONS = 20


def _all_at_once(calls) -> list:
    barrier = threading.Barrier(min(CONNECTIONS, len(calls)))
    started = threading.local()

    def run(call):
        try:
            if not getattr(started, "yes", False):
                started.yes = True
                barrier.wait(timeout=30)
            return call()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        return list(pool.map(run, calls))


def _pending_order(user, course) -> Order:
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(f"/api/v1/courses/{course.pk}/checkout/")
    assert response.status_code == 201
    return Order.objects.get(pk=response.json()["order"]["id"])


def _deliver(body):
    def call():
        response = post_event(APIClient(), body)
        return response.status_code, response.json().get("duplicate")

    return call


def test_20_concurrent_deliveries_of_one_event_enrol_once():
    course = course_with_content(published=True, paid=True)
    buyer = UserFactory()
    order = _pending_order(buyer, course)
    body = completed_event(order)

    results = _all_at_once([_deliver(body)] * 20)

    order.refresh_from_db()
    assert Counter(results) == {(200, False): 1, (200, True): 19}
    assert WebhookEvent.objects.count() == 1
    assert Enrollment.objects.filter(user=buyer, course=course).count() == 1
    assert order.status == Order.Status.PAID
    assert course.__class__.objects.get(pk=course.pk).enrollment_count == 1


def test_concurrent_completed_and_async_succeeded_enrol_once():
    course = course_with_content(published=True, paid=True)
    buyer = UserFactory()
    order = _pending_order(buyer, course)
    bodies = [
        completed_event(order)
        if index % 2
        else event("checkout.session.async_payment_succeeded", session_object(order))
        for index in range(20)
    ]

    results = _all_at_once([_deliver(body) for body in bodies])

    assert {status for status, _ in results} == {200}
    assert WebhookEvent.objects.count() == 20
    assert WebhookEvent.objects.filter(result="processed").count() == 1
    assert Enrollment.objects.filter(user=buyer, course=course).count() == 1


def test_a_5_use_coupon_is_redeemed_exactly_5_times_by_40_concurrent_buyers():
    course = course_with_content(published=True, paid=True)
    CouponFactory(code="FIVE", percent_off=30, max_redemptions=5)
    buyers = UserFactory.create_batch(40)

    def checkout(user):
        def call():
            client = APIClient()
            client.force_authenticate(user)
            response = client.post(
                f"/api/v1/courses/{course.pk}/checkout/", {"coupon": "FIVE"}, format="json"
            )
            return response.status_code, response.json().get("code")

        return call

    results = _all_at_once([checkout(user) for user in buyers])

    assert Counter(results) == {(201, None): 5, (409, "coupon_exhausted"): 35}
    assert Coupon.objects.get(code="FIVE").redemption_count == 5
    assert Order.objects.filter(coupon__code="FIVE").count() == 5


def test_a_5_use_full_coupon_enrols_exactly_5_of_40_concurrent_buyers():
    course = course_with_content(published=True, paid=True)
    CouponFactory(code="GIFT5", percent_off=100, max_redemptions=5)
    buyers = UserFactory.create_batch(40)

    def checkout(user):
        def call():
            client = APIClient()
            client.force_authenticate(user)
            response = client.post(
                f"/api/v1/courses/{course.pk}/checkout/", {"coupon": "GIFT5"}, format="json"
            )
            return response.status_code

        return call

    results = _all_at_once([checkout(user) for user in buyers])

    assert Counter(results) == {201: 5, 409: 35}
    assert Enrollment.objects.filter(course=course).count() == 5
    assert Coupon.objects.get(code="GIFT5").redemption_count == 5


def test_concurrent_checkouts_by_one_learner_make_one_pending_order(stripe_api):
    course = course_with_content(published=True, paid=True)
    buyer = UserFactory()

    def call():
        client = APIClient()
        client.force_authenticate(buyer)
        return client.post(f"/api/v1/courses/{course.pk}/checkout/").status_code

    results = _all_at_once([call] * 10)

    assert sorted(results) == [200] * 9 + [201]
    assert Order.objects.filter(user=buyer, status="pending").count() == 1
    assert len(stripe_api.sessions) == 1
