import statistics
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from certificates import selectors, services
from certificates.models import Certificate, CertificateTemplate
from certificates.rendering import CertificateContent, render_certificate_pdf
from courses.models import Course

# --measure renders these in turn: Latin, Arabic and Hebrew names and titles, long and short.
SAMPLES = [
    ("Ada Lovelace", "Introduction to Analytical Engines"),
    ("محمد عبد الله الفارسي", "مقدمة في البرمجة بلغة بايثون"),
    ("שרה לוי", "יסודות מדעי הנתונים"),
    ("José Álvarez-Núñez de la Fuente", "Distributed Systems: Consistency, Consensus and Failure"),
]


class Command(BaseCommand):
    help = (
        "Issue the certificates that a course's completed enrolments lack (each renders on the "
        "certificates queue, or here when tasks run eagerly), with progress and a summary. "
        "--measure renders sample certificates in this process instead, writes nothing, and "
        "prints PDFs per second and the median render time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--course", metavar="SLUG", help="The course to issue for.")
        action.add_argument(
            "--measure", action="store_true", help="Benchmark the PDF rendering instead."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List who would get one; write nothing."
        )
        parser.add_argument(
            "--count", type=int, default=50, help="With --measure: PDFs to render (50)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["measure"]:
            self._measure(count=options["count"])
            return
        course = Course.objects.filter(slug=options["course"].lower()).first()
        if course is None:
            raise CommandError(f"No course with the slug {options['course']!r}.")
        if not course.certificate_enabled:
            raise CommandError(f"Certificates are turned off for {course.slug!r}.")
        enrollments = list(selectors.enrollment_list_missing_certificate(course=course))
        total = len(enrollments)
        self.stdout.write(f"{course.slug}: {total} completed enrolment(s) without a certificate.")
        if options["dry_run"]:
            for enrollment in enrollments:
                self.stdout.write(f"  would issue: {enrollment.user.email}")
            self.stdout.write(self.style.SUCCESS(f"Dry run: {total} to issue, nothing written."))
            return
        issued = 0
        step = max(1, min(100, total // 10))
        for index, enrollment in enumerate(enrollments, start=1):
            # One transaction each: an interruption keeps what was issued, a re-run skips it.
            _, created = services.certificate_issue(
                enrollment=enrollment, source=Certificate.Source.BULK
            )
            issued += created
            if index % step == 0 or index == total:
                self.stdout.write(f"  {index}/{total}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{issued} certificate(s) issued for {course.slug}; "
                f"{total - issued} had one meanwhile. The PDFs are rendered by the certificates "
                "queue."
            )
        )

    def _measure(self, *, count: int) -> None:
        if count < 1:
            raise CommandError("--count must be at least 1.")
        template = CertificateTemplate.objects.filter(is_default=True).first()
        contents = [
            CertificateContent(
                learner_name=name,
                course_title=title,
                instructor_names="Grace Hopper, Alan Turing",
                grade="",
                issued_at=timezone.now(),
                verification_code=f"measure{index:09d}",
            )
            for index, (name, title) in enumerate(SAMPLES)
        ]
        # The first render loads WeasyPrint and the fonts: a worker pays that once.
        started = time.perf_counter()
        render_certificate_pdf(contents[0], template)
        warm_up = time.perf_counter() - started
        durations = []
        sizes = []
        started = time.perf_counter()
        for index in range(count):
            one = time.perf_counter()
            sizes.append(len(render_certificate_pdf(contents[index % len(contents)], template)))
            durations.append(time.perf_counter() - one)
        elapsed = time.perf_counter() - started
        p95 = statistics.quantiles(durations, n=20)[-1] if count >= 2 else durations[0]
        self.stdout.write(
            f"Template: {template or 'the shipped default (A4 landscape)'}\n"
            f"{count} PDFs in {elapsed:.2f} s in one process: {count / elapsed:.1f} PDFs/s\n"
            f"render time p50 {statistics.median(durations) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms, max {max(durations) * 1000:.0f} ms "
            f"(first render with start-up: {warm_up * 1000:.0f} ms)\n"
            f"PDF size: median {statistics.median(sizes) / 1024:.0f} KiB"
        )
