"""The public verification page at /certificates/verify/<code>/."""

import pytest

from certificates.tests.factories import CertificateFactory

pytestmark = pytest.mark.django_db


def page(client, certificate_or_code):
    code = getattr(certificate_or_code, "verification_code", certificate_or_code)
    return client.get(f"/certificates/verify/{code}/")


def test_verification_page_shows_a_valid_certificate_without_sign_in(client):
    certificate = CertificateFactory(
        issued=True, learner_name="Ada Lovelace", course_title="Analytical Engines"
    )

    response = page(client, certificate)

    content = response.content.decode()
    assert response.status_code == 200
    assert "Valid certificate" in content
    assert "Ada Lovelace" in content
    assert "Analytical Engines" in content
    assert certificate.verification_code in content
    assert certificate.user.email not in content
    assert str(certificate.pk) not in content
    assert 'data-testid="download"' not in content


def test_verification_page_says_revoked(client):
    response = page(client, CertificateFactory(revoked=True))

    assert response.status_code == 200
    assert "Revoked certificate" in response.content.decode()
    assert "Issued by mistake" not in response.content.decode()  # the reason stays private


@pytest.mark.parametrize(
    "state",
    [pytest.param("unknown", id="_case unknown code"), pytest.param("pending", id="_case pending")],
)
def test_verification_page_of_an_unknown_or_pending_code_is_404(client, state):
    code = "doesnotexist0000" if state == "unknown" else CertificateFactory().verification_code

    response = page(client, code)

    assert response.status_code == 404
    assert "Certificate not found" in response.content.decode()


def test_verification_page_offers_the_learner_a_download(client, api_client):
    certificate = CertificateFactory(issued=True)
    client.force_login(certificate.user)

    response = page(client, certificate)

    assert response.status_code == 200
    link = response.content.decode().split('href="/api/v1/certificates/files/')[1].split('"')[0]
    download = api_client.get(f"/api/v1/certificates/files/{link}")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"


def test_verification_page_offers_no_download_to_someone_else(client, other_student):
    client.force_login(other_student)

    response = page(client, CertificateFactory(issued=True))

    assert 'data-testid="download"' not in response.content.decode()


def test_verification_page_is_throttled(client, settings):
    settings.CERTIFICATES_VERIFY_THROTTLE_RATE = "2/min"
    certificate = CertificateFactory(issued=True)

    statuses = [page(client, certificate).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    response = page(client, certificate)
    assert int(response["Retry-After"]) > 0
    assert "Too many checks" in response.content.decode()


def test_verification_page_styles_carry_the_csp_nonce(client):
    response = page(client, CertificateFactory(issued=True))

    nonce = response.wsgi_request.csp_nonce
    assert f'<style nonce="{nonce}">' in response.content.decode()
