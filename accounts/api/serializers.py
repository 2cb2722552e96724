from rest_framework import serializers

from accounts.models import User


class UserOutputSerializer(serializers.ModelSerializer):
    date_joined = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "role",
            "is_active",
            "email_verified_at",
            "receives_weekly_digest",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields


class UserRegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    full_name = serializers.CharField(max_length=150)


class TokenObtainInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LogoutInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(
        required=False,
        help_text="The refresh token to revoke. Required when authenticated with a JWT.",
    )


class MeUpdateInputSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=150, required=False)
    receives_weekly_digest = serializers.BooleanField(required=False)


class PasswordChangeInputSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class MfaChallengeOutputSerializer(serializers.Serializer):
    mfa_required = serializers.BooleanField(help_text="Always true: finish with auth/mfa/verify/.")
    challenge = serializers.CharField(
        help_text="Single-use, valid 10 minutes, accepted only by POST auth/mfa/verify/."
    )


class MfaVerifyInputSerializer(serializers.Serializer):
    challenge = serializers.CharField(max_length=128)
    code = serializers.CharField(
        max_length=32, help_text="A 6-digit code from the authenticator app, or a backup code."
    )


class EmailInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class EmailVerificationRequestInputSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=254, required=False, help_text="Needed only when not signed in."
    )


class TokenInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=128)


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class DetailOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()


class EmailVerifiedOutputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    email_verified_at = serializers.DateTimeField()


class TotpEnrollmentOutputSerializer(serializers.Serializer):
    otpauth_uri = serializers.CharField(help_text="otpauth://totp/... for authenticator apps.")
    secret = serializers.CharField(help_text="The same secret in base32, to type in by hand.")
    qr_code = serializers.CharField(help_text="The otpauth URI as a QR code: an SVG data URI.")


class MfaCodeInputSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=32, help_text="A 6-digit code from the authenticator app, or a backup code."
    )


class MfaDisableInputSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    code = serializers.CharField(max_length=32)


class BackupCodesOutputSerializer(serializers.Serializer):
    backup_codes = serializers.ListField(
        child=serializers.CharField(),
        help_text="10 single-use codes. Shown only now: store them somewhere safe.",
    )
