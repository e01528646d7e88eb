"""The locator's nearest-neighbour index on PostgreSQL: each store as a point on the unit sphere (a
`cube`), so a GiST index hands out stores in order of straight-line distance through the Earth, which
is the order of great-circle distance. Other databases keep the latitude/longitude index alone."""

from django.db import migrations

# The same expression as `EARTH_POINT_SQL` in vigencia/stores/selectors.py; the planner uses the index
# only when the query's expression matches this one.
EARTH_POINT_SQL = (
    "cube(ARRAY[cos(radians(latitude)) * cos(radians(longitude)), "
    "cos(radians(latitude)) * sin(radians(longitude)), sin(radians(latitude))])"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # `cube` is a trusted extension: the database's owner may create it without being a superuser.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS cube")
    schema_editor.execute(f"CREATE INDEX stores_store_earth_idx ON stores_store USING gist (({EARTH_POINT_SQL}))")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS stores_store_earth_idx")


class Migration(migrations.Migration):
    dependencies = [("stores", "0003_counter")]

    operations = [migrations.RunPython(create, drop)]
