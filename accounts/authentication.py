from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import Token

from accounts.selectors import access_token_is_denied


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's authentication, plus the logout deny-list kept in the shared cache."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = super().get_validated_token(raw_token)
        if access_token_is_denied(jti=str(token["jti"])):
            raise InvalidToken({"detail": "Token has been revoked.", "code": "token_revoked"})
        return token
