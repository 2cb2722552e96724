from django.contrib.auth import logout, update_session_auth_hash
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.tokens import AccessToken

from accounts import selectors, services
from accounts.api.permissions import IsAdmin
from accounts.api.serializers import (
    LogoutInputSerializer,
    MeUpdateInputSerializer,
    PasswordChangeInputSerializer,
    TokenObtainInputSerializer,
    TokenPairOutputSerializer,
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
        responses={200: TokenPairOutputSerializer, **error_responses(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        """Log in with email and password: an access (15 min) and a refresh token (30 days)."""
        serializer = TokenObtainInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.auth_token_obtain(request=request, **serializer.validated_data)
        return Response(TokenPairOutputSerializer(tokens).data)


class TokenRefreshView(jwt_views.TokenRefreshView):
    """Exchange a refresh token for a new pair; the old refresh token stops working."""

    throttle_classes = [AuthRateThrottle]


class LogoutView(APIView):
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
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=PasswordChangeInputSerializer,
        responses={200: TokenPairOutputSerializer, **error_responses(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        """Change the password. Every refresh token is revoked; a new pair is returned."""
        serializer = PasswordChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.user_change_password(user=request.user, **serializer.validated_data)
        update_session_auth_hash(request, request.user)  # keep this browser session signed in
        return Response(TokenPairOutputSerializer(tokens).data)


@extend_schema(responses={200: UserOutputSerializer, **error_responses(401, 403, 404)})
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Back-office user directory (admins only)."""

    permission_classes = [IsAdmin]
    serializer_class = UserOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = UserFilter

    def get_queryset(self) -> QuerySet[User]:
        return selectors.user_list()
