"""Milestone dates must lie inside their plan: a cross-table rule, so a trigger."""

from django.db import migrations

PG_CREATE = """
CREATE OR REPLACE FUNCTION targets_milestone_inside_plan() RETURNS trigger AS $$
DECLARE
    plan_start date;
    plan_end date;
BEGIN
    SELECT p.start, p."end" INTO plan_start, plan_end
      FROM targets_target t JOIN targets_plan p ON p.id = t.plan_id
     WHERE t.id = NEW.target_id;
    IF NEW.date < plan_start OR NEW.date > plan_end THEN
        RAISE EXCEPTION 'milestone date % lies outside its plan (% – %)',
            NEW.date, plan_start, plan_end USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER targets_milestone_inside_plan
    BEFORE INSERT OR UPDATE ON targets_milestone
    FOR EACH ROW EXECUTE FUNCTION targets_milestone_inside_plan();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS targets_milestone_inside_plan ON targets_milestone;
DROP FUNCTION IF EXISTS targets_milestone_inside_plan();
"""

SQLITE_CHECK = """
SELECT RAISE(ABORT, 'CHECK constraint failed: milestone date lies outside its plan')
  WHERE EXISTS (
    SELECT 1 FROM targets_target t JOIN targets_plan p ON p.id = t.plan_id
     WHERE t.id = NEW.target_id AND (NEW.date < p.start OR NEW.date > p."end")
  );
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the function body holds "%" placeholders of RAISE, not query parameters.
        schema_editor.execute(PG_CREATE, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for event in ("INSERT", "UPDATE"):
            schema_editor.execute(
                f"CREATE TRIGGER targets_milestone_inside_plan_{event.lower()} "
                f"BEFORE {event} ON targets_milestone FOR EACH ROW BEGIN {SQLITE_CHECK} END;"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif schema_editor.connection.vendor == "sqlite":
        for event in ("insert", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS targets_milestone_inside_plan_{event};")


class Migration(migrations.Migration):
    dependencies = [("targets", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
