import factory
from factory.django import DjangoModelFactory

from accounts.models import User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role = User.Role.STUDENT
    password = factory.django.Password(PASSWORD)

    class Params:
        instructor = factory.Trait(role=User.Role.INSTRUCTOR, is_staff=True)
        admin = factory.Trait(role=User.Role.ADMIN, is_staff=True)
        inactive = factory.Trait(is_active=False)
