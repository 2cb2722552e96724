from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from certificates import selectors, services


class Command(BaseCommand):
    help = (
        "Send this week's progress digest to every active learner who has not opted out, in "
        "batches, with progress and a summary. Safe to run again: nobody gets a second digest "
        "for the same week (the beat job `send-weekly-digest` does the same on Mondays)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the recipients; send nothing."
        )

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        week_start = services.digest_week_start(timezone.localdate())
        opted_out = selectors.digest_opted_out_count()
        if dry_run:
            recipients = selectors.digest_recipients().count()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Dry run for the week of {week_start}: {recipients} learner(s) would be "
                    f"considered, {opted_out} opted out. Nothing sent."
                )
            )
            return
        sent = skipped = 0
        after = None
        while True:
            batch_sent, batch_skipped, after = services.weekly_digest_send_batch(
                week_start=week_start, after_user_id=after
            )
            sent += batch_sent
            skipped += batch_skipped
            self.stdout.write(f"  {sent + skipped} learner(s) done")
            if after is None:
                break
        self.stdout.write(
            self.style.SUCCESS(
                f"Week of {week_start}: {sent} digest(s) sent, {skipped} already sent this week, "
                f"{opted_out} learner(s) opted out."
            )
        )
