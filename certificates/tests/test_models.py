import pytest
from django.db import IntegrityError, transaction

from certificates.models import VERIFICATION_CODE_LENGTH, Certificate, verification_code
from certificates.tests.factories import CertificateFactory, CertificateTemplateFactory

pytestmark = pytest.mark.django_db


def test_an_enrolment_has_at_most_one_live_certificate(enrollment):
    CertificateFactory(enrollment=enrollment)

    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateFactory(enrollment=enrollment)


def test_revoked_certificates_do_not_count_against_the_live_one(enrollment):
    CertificateFactory(enrollment=enrollment, revoked=True)
    CertificateFactory(enrollment=enrollment, revoked=True)

    CertificateFactory(enrollment=enrollment, issued=True)

    assert Certificate.objects.filter(enrollment=enrollment).count() == 3


def test_an_issued_certificate_has_a_pdf():
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateFactory(status=Certificate.Status.ISSUED)


def test_a_revoked_certificate_has_a_revocation_time():
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateFactory(status=Certificate.Status.REVOKED)


def test_verification_codes_are_unique():
    first = CertificateFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateFactory(verification_code=first.verification_code)


def test_there_is_one_default_template_at_most():
    CertificateTemplateFactory(is_default=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateTemplateFactory(is_default=True)


def test_verification_codes_are_url_safe_and_carry_80_random_bits():
    codes = {verification_code() for _ in range(1000)}

    assert len(codes) == 1000
    for code in codes:
        assert len(code) == VERIFICATION_CODE_LENGTH == 16
        assert set(code) <= set("abcdefghijklmnopqrstuvwxyz234567")  # base32: 5 bits each
