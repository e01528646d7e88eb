"""The "integrator" role (API clients that feed usage records in), as accounts.roles has none."""

from django.db import migrations


def create_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="integrator")


class Migration(migrations.Migration):
    dependencies = [("usage", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_role, migrations.RunPython.noop)]
