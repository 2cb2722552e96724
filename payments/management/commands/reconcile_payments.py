import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from payments.errors import PaymentProviderError
from payments.models import Order
from payments.providers import PROVIDER_CLASSES, get_provider
from payments.services import order_reconcile

DURATION = re.compile(r"^(\d+)([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_since(value: str, *, now: datetime) -> datetime:
    """`7d`, `12h`, `30m`, an ISO date (midnight UTC) or an ISO date-time."""
    if match := DURATION.match(value.strip()):
        return now - timedelta(**{UNITS[match[2]]: int(match[1])})
    moment = parse_datetime(value)
    if moment is None and (day := parse_date(value)) is not None:
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if moment is None:
        raise CommandError(f"--since {value!r}: use 7d, 12h, 30m, 2026-01-31 or an ISO date-time.")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


class Command(BaseCommand):
    help = (
        "Ask the payment provider about the checkout of every pending order and apply what it "
        "reports (paid, expired) through the same code path as the webhooks. Reports each "
        "order that changed; exits non-zero when the provider could not answer for some."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            metavar="WHEN",
            help="Only orders created since: 7d, 12h, 30m, 2026-01-31 or an ISO date-time.",
        )

    def handle(self, *args: Any, since: str | None, **options: Any) -> None:
        orders = Order.objects.filter(status=Order.Status.PENDING).order_by("created_at")
        if since:
            orders = orders.filter(created_at__gte=parse_since(since, now=timezone.now()))
        providers = {name: get_provider(name) for name in PROVIDER_CLASSES}
        checked = changed = failed = 0
        # A list: each order is applied in its own transaction while the loop runs.
        for order in list(orders.select_related("course", "user")):
            provider = providers.get(order.provider)
            if provider is None or not provider.is_configured():
                self.stdout.write(
                    f"{order.number}: skipped (provider {order.provider} unavailable)"
                )
                failed += 1
                continue
            checked += 1
            try:
                outcome = order_reconcile(order=order, provider=provider)
            except PaymentProviderError as error:
                failed += 1
                self.stderr.write(f"{order.number}: the provider did not answer: {error.message}")
                continue
            if outcome.changed:
                changed += 1
                self.stdout.write(
                    f"{order.number}: {outcome.before} -> {outcome.after} ({outcome.detail})"
                )
            else:
                self.stdout.write(f"{order.number}: unchanged, {outcome.after} ({outcome.detail})")
        summary = f"{checked} pending order(s) checked, {changed} changed, {failed} not checked."
        if failed:
            self.stdout.write(self.style.WARNING(summary))
            raise CommandError(f"{failed} order(s) could not be checked.")
        self.stdout.write(self.style.SUCCESS(summary))
