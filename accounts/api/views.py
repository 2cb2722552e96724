from django.contrib.auth import logout, update_session_auth_hash
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.tokens import AccessToken

from accounts import selectors, services
from accounts.api.permissions import IsAdmin
from accounts.api.serializers import (
    BackupCodesOutputSerializer,
    DetailOutputSerializer,
    EmailInputSerializer,
    EmailVerificationRequestInputSerializer,
    EmailVerifiedOutputSerializer,
    LogoutInputSerializer,
    MeUpdateInputSerializer,
    MfaChallengeOutputSerializer,
    MfaCodeInputSerializer,
    MfaDisableInputSerializer,
    MfaVerifyInputSerializer,
    PasswordChangeInputSerializer,
    PasswordResetConfirmInputSerializer,
    TokenInputSerializer,
    TokenObtainInputSerializer,
    TokenPairOutputSerializer,
    TotpEnrollmentOutputSerializer,
    UserOutputSerializer,
    UserRegisterInputSerializer,
)
from accounts.filters import UserFilter
from accounts.models import User
from lms.exceptions import error_responses
from lms.throttles import AuthRateThrottle


class RegisterView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=UserRegisterInputSerializer,
        responses={201: UserOutputSerializer, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        """Create a student account; a welcome email follows."""
        serializer = UserRegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=TokenObtainInputSerializer,
        responses={
            200: PolymorphicProxySerializer(
                component_name="TokenObtainResult",
                serializers=[TokenPairOutputSerializer, MfaChallengeOutputSerializer],
                resource_type_field_name=None,
            ),
            **error_responses(400, 401, 403, 429),
        },
    )
    def post(self, request: Request) -> Response:
        """Log in with email and password: an access (15 min) and a refresh token (30 days), or,
        with two-factor authentication on, a challenge for auth/mfa/verify/. 403
        `account_locked` after 5 failed attempts in a row, for 15 minutes."""
        serializer = TokenObtainInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.auth_token_obtain(request=request, **serializer.validated_data)
        if "challenge" in result:
            return Response(MfaChallengeOutputSerializer(result).data)
        return Response(TokenPairOutputSerializer(result).data)


class MfaVerifyView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=MfaVerifyInputSerializer,
        responses={200: TokenPairOutputSerializer, **error_responses(400, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        """Finish a sign-in with two-factor authentication: the challenge and a TOTP or backup
        code give tokens that carry the MFA claim. Wrong codes count toward the lockout."""
        serializer = MfaVerifyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.auth_mfa_verify(request=request, **serializer.validated_data)
        return Response(TokenPairOutputSerializer(tokens).data)


RESET_LINK_SENT = (
    "If an account exists for this address, a link to reset its password is on its way."
)
VERIFICATION_LINK_SENT = "If this address has an account to verify, a link is on its way."


class PasswordResetView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=EmailInputSerializer,
        responses={202: DetailOutputSerializer, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        """Mail a password reset link (valid 30 minutes). The answer is the same whether or not
        the address has an account."""
        serializer = EmailInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(request=request, **serializer.validated_data)
        return Response({"detail": RESET_LINK_SENT}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=PasswordResetConfirmInputSerializer,
        responses={204: None, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        """Set a new password with the mailed token. Every session of the account ends: its
        refresh and access tokens stop working."""
        serializer = PasswordResetConfirmInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(request=request, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerificationRequestView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=EmailVerificationRequestInputSerializer,
        responses={202: DetailOutputSerializer, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        """Mail a new verification link (valid 24 hours) to the signed-in user, or to `email`.
        The answer is the same whether or not the address has an account."""
        serializer = EmailVerificationRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data.get("email")
        if request.user.is_authenticated:
            services.email_verification_request(user=request.user)
        elif email is None:
            raise ValidationError({"email": ["This field is required."]}, code="required")
        else:
            services.email_verification_request(email=email)
        return Response({"detail": VERIFICATION_LINK_SENT}, status=status.HTTP_202_ACCEPTED)


class EmailVerificationConfirmView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=TokenInputSerializer,
        responses={200: EmailVerifiedOutputSerializer, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        """Confirm the email address with the mailed token (single use)."""
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.email_verification_confirm(request=request, **serializer.validated_data)
        return Response(EmailVerifiedOutputSerializer(user).data)


class TokenRefreshView(jwt_views.TokenRefreshView):
    """Exchange a refresh token for a new pair; the old refresh token stops working."""

    throttle_classes = [AuthRateThrottle]


class LogoutView(APIView):
    # Explicit, so that staff without MFA can still sign out when MFA_REQUIRED_FOR_STAFF is on.
    permission_classes = [IsAuthenticated]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=LogoutInputSerializer, responses={204: None, **error_responses(400, 401)}
    )
    def post(self, request: Request) -> Response:
        """Revoke the refresh token and the access token of this request, at once."""
        serializer = LogoutInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        access = request.auth if isinstance(request.auth, AccessToken) else None
        refresh = serializer.validated_data.get("refresh")
        if access is not None and refresh is None:
            raise ValidationError({"refresh": ["This field is required."]}, code="required")
        services.auth_logout(user=request.user, refresh=refresh, access=access)
        if access is None:
            logout(request)  # a browser session
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]  # staff set up MFA from here when it is required

    @extend_schema(responses={200: UserOutputSerializer, **error_responses(401)})
    def get(self, request: Request) -> Response:
        """The signed-in user's profile."""
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(
        request=MeUpdateInputSerializer,
        responses={200: UserOutputSerializer, **error_responses(400, 401)},
    )
    def patch(self, request: Request) -> Response:
        """Update the name or the weekly-digest choice. Email and role cannot be changed here."""
        serializer = MeUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **serializer.validated_data)
        return Response(UserOutputSerializer(user).data)


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=PasswordChangeInputSerializer,
        responses={200: TokenPairOutputSerializer, **error_responses(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        """Change the password. Every refresh token is revoked; a new pair is returned."""
        serializer = PasswordChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.user_change_password(
            user=request.user,
            request=request,
            mfa=selectors.request_is_mfa_verified(request=request),
            **serializer.validated_data,
        )
        update_session_auth_hash(request, request.user)  # keep this browser session signed in
        return Response(TokenPairOutputSerializer(tokens).data)


class TotpView(APIView):
    # Not MfaRequiredForStaff: this is how staff get their second factor.
    permission_classes = [IsAuthenticated]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=None,
        responses={201: TotpEnrollmentOutputSerializer, **error_responses(401, 409, 429)},
    )
    def post(self, request: Request) -> Response:
        """Start two-factor set-up: a new TOTP secret (otpauth URI, QR code as an SVG data URI).
        Sign-in does not change until me/mfa/totp/confirm/."""
        enrollment = services.mfa_totp_enroll(user=request.user)
        return Response(
            TotpEnrollmentOutputSerializer(enrollment).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=None,
        description=(
            "Turn two-factor authentication off. The JSON body needs `password` and `code` "
            "(a TOTP or backup code)."
        ),
        responses={204: None, **error_responses(400, 401, 403, 409, 429)},
    )
    def delete(self, request: Request) -> Response:
        """Turn two-factor authentication off (password and a current code)."""
        serializer = MfaDisableInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.mfa_disable(user=request.user, request=request, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TotpConfirmView(APIView):
    # Not MfaRequiredForStaff: this is how staff get their second factor.
    permission_classes = [IsAuthenticated]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=MfaCodeInputSerializer,
        responses={200: BackupCodesOutputSerializer, **error_responses(400, 401, 409, 429)},
    )
    def post(self, request: Request) -> Response:
        """Turn two-factor authentication on with a first code; returns 10 backup codes, once."""
        serializer = MfaCodeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        codes = services.mfa_totp_confirm(
            user=request.user, request=request, **serializer.validated_data
        )
        return Response(BackupCodesOutputSerializer({"backup_codes": codes}).data)


class BackupCodesView(APIView):
    # Not MfaRequiredForStaff: this is how staff get their second factor.
    permission_classes = [IsAuthenticated]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=MfaCodeInputSerializer,
        responses={200: BackupCodesOutputSerializer, **error_responses(400, 401, 403, 409, 429)},
    )
    def post(self, request: Request) -> Response:
        """Replace the backup codes (a current code is needed); the old ones stop working."""
        serializer = MfaCodeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        codes = services.mfa_backup_codes_regenerate(
            user=request.user, request=request, **serializer.validated_data
        )
        return Response(BackupCodesOutputSerializer({"backup_codes": codes}).data)


@extend_schema(responses={200: UserOutputSerializer, **error_responses(401, 403, 404)})
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Back-office user directory (admins only)."""

    permission_classes = [IsAdmin]
    serializer_class = UserOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = UserFilter

    def get_queryset(self) -> QuerySet[User]:
        return selectors.user_list()
