from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts import selectors

if TYPE_CHECKING:
    # Not at run time: DRF imports this module (DEFAULT_PERMISSION_CLASSES) while it is still
    # defining APIView.
    from rest_framework.views import APIView


class IsMfaVerified(BasePermission):
    """The request's credentials passed the second factor (tokens from auth/mfa/verify/, or an
    admin session verified with a code)."""

    message = "This needs a sign-in with two-factor authentication."
    code = "mfa_required"

    def has_permission(self, request: Request, view: "APIView") -> bool:
        return bool(
            request.user
            and request.user.is_authenticated
            and selectors.request_is_mfa_verified(request=request)
        )


class MfaRequiredForStaff(BasePermission):
    """When MFA_REQUIRED_FOR_STAFF is on, staff (admins and instructors) need credentials that
    passed the second factor; everyone else passes. In DEFAULT_PERMISSION_CLASSES, and part
    of every staff permission."""

    message = "Staff need a sign-in with two-factor authentication."
    code = "mfa_required"

    def has_permission(self, request: Request, view: "APIView") -> bool:
        user = request.user
        if not (user and user.is_authenticated and selectors.user_mfa_is_required(user=user)):
            return True
        return selectors.request_is_mfa_verified(request=request)


class IsAdmin(BasePermission):
    """Back-office staff: the admin role or a superuser (with MFA when staff need it)."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_admin):
            return False
        if not MfaRequiredForStaff().has_permission(request, view):
            self.message = MfaRequiredForStaff.message
            self.code = MfaRequiredForStaff.code
            return False
        return True
