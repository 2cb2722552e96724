"""Keep Course.search_vector current in PostgreSQL itself, whatever path writes the row.

Weights: title A, subtitle B, description C. SQLite has no full-text types; the catalog falls
back to icontains there, so this migration does nothing on other databases.
"""

from django.db import migrations

CREATE_TRIGGER = """
CREATE OR REPLACE FUNCTION courses_course_search_vector_update() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english'::regconfig, coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector('english'::regconfig, coalesce(NEW.subtitle, '')), 'B') ||
        setweight(to_tsvector('english'::regconfig, coalesce(NEW.description, '')), 'C');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER courses_course_search_vector_trigger
    BEFORE INSERT OR UPDATE OF title, subtitle, description ON courses_course
    FOR EACH ROW EXECUTE FUNCTION courses_course_search_vector_update();

UPDATE courses_course SET title = title;
"""

DROP_TRIGGER = """
DROP TRIGGER IF EXISTS courses_course_search_vector_trigger ON courses_course;
DROP FUNCTION IF EXISTS courses_course_search_vector_update();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_TRIGGER)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("courses", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
