import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from factory.django import DjangoModelFactory

from certificates.models import Certificate, CertificateTemplate
from enrollments.tests.factories import EnrollmentFactory

MINIMAL_PDF = b"%PDF-1.7\n%fake certificate for tests\n%%EOF\n"


class CertificateTemplateFactory(DjangoModelFactory):
    class Meta:
        model = CertificateTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    html = "<h1>{{ organization_name }}</h1><p>{{ learner_name }}</p><p>{{ course_title }}</p>"
    css = "h1 { color: navy; }"
    organization_name = "Acme Academy"


class CertificateFactory(DjangoModelFactory):
    """A pending certificate of a completed enrolment; `issued=True` adds a stored PDF.

    Prefer services.certificate_issue where dispatching and snapshots matter.
    """

    class Meta:
        model = Certificate

    enrollment = factory.SubFactory(EnrollmentFactory, completed=True)
    user = factory.SelfAttribute("enrollment.user")
    course = factory.SelfAttribute("enrollment.course")
    source = Certificate.Source.COMPLETION
    learner_name = factory.SelfAttribute("user.full_name")
    course_title = factory.SelfAttribute("course.title")
    issued_at = factory.LazyFunction(timezone.now)

    class Params:
        issued = factory.Trait(
            status=Certificate.Status.ISSUED,
            rendered_at=factory.LazyFunction(timezone.now),
            pdf=factory.LazyAttribute(
                lambda certificate: ContentFile(MINIMAL_PDF, name="certificate.pdf")
            ),
        )
        revoked = factory.Trait(
            status=Certificate.Status.REVOKED,
            rendered_at=factory.LazyFunction(timezone.now),
            revoked_at=factory.LazyFunction(timezone.now),
            revoked_reason="Issued by mistake.",
        )
