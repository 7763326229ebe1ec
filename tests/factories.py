"""factory_boy factories shared by every test module."""

from __future__ import annotations

import factory

from accounts.models import User

TEST_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.declarations.Sequence(lambda n: f"user{n}@example.test")
    password = factory.declarations.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True
