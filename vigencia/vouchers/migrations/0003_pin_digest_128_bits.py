"""PIN digests: the HMAC's first 128 bits in a uuid column instead of 64 hex characters (a third of the
index, bytewise comparisons). Existing digests keep their first 32 hex digits, which is exactly what
codes.pin_digest now computes, so every PIN sold still redeems. Not reversible: the cut half is gone."""

from django.db import migrations, models
from django.db.models.functions import Substr


def truncate(apps, schema_editor):
    apps.get_model("vouchers", "VoucherCode").objects.update(pin_digest=Substr("pin_digest", 1, 32))


class Migration(migrations.Migration):
    dependencies = [("vouchers", "0002_code_indexes")]

    operations = [
        migrations.RunPython(truncate),
        migrations.AlterField(model_name="vouchercode", name="pin_digest", field=models.UUIDField()),
    ]
