"""Cross-table invariants the database enforces with triggers.

- a milestone's date lies inside its plan;
- the values of milestones and entries of a `percent` target lie in 0–100.
"""

from django.db import migrations

PG_CREATE = """
CREATE OR REPLACE FUNCTION targets_milestone_check() RETURNS trigger AS $$
DECLARE
    plan_start date;
    plan_end date;
    kind varchar;
BEGIN
    SELECT p.start, p."end", t.value_type INTO plan_start, plan_end, kind
      FROM targets_target t JOIN targets_plan p ON p.id = t.plan_id
     WHERE t.id = NEW.target_id;
    IF NEW.date < plan_start OR NEW.date > plan_end THEN
        RAISE EXCEPTION 'milestone date % lies outside its plan (% – %)',
            NEW.date, plan_start, plan_end USING ERRCODE = 'check_violation';
    END IF;
    IF kind = 'percent' AND (NEW.value < 0 OR NEW.value > 100) THEN
        RAISE EXCEPTION 'milestone value % is not a percentage', NEW.value
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER targets_milestone_check
    BEFORE INSERT OR UPDATE ON targets_milestone
    FOR EACH ROW EXECUTE FUNCTION targets_milestone_check();

CREATE OR REPLACE FUNCTION targets_entry_check() RETURNS trigger AS $$
BEGIN
    IF (NEW.value < 0 OR NEW.value > 100) AND EXISTS (
        SELECT 1 FROM targets_target t WHERE t.id = NEW.target_id AND t.value_type = 'percent'
    ) THEN
        RAISE EXCEPTION 'entry value % is not a percentage', NEW.value
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER targets_entry_check
    BEFORE INSERT OR UPDATE ON targets_progressentry
    FOR EACH ROW EXECUTE FUNCTION targets_entry_check();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS targets_entry_check ON targets_progressentry;
DROP FUNCTION IF EXISTS targets_entry_check();
DROP TRIGGER IF EXISTS targets_milestone_check ON targets_milestone;
DROP FUNCTION IF EXISTS targets_milestone_check();
"""

SQLITE_MILESTONE = """
SELECT RAISE(ABORT, 'CHECK constraint failed: milestone date lies outside its plan')
  WHERE EXISTS (
    SELECT 1 FROM targets_target t JOIN targets_plan p ON p.id = t.plan_id
     WHERE t.id = NEW.target_id AND (NEW.date < p.start OR NEW.date > p."end")
  );
SELECT RAISE(ABORT, 'CHECK constraint failed: milestone value is not a percentage')
  WHERE (NEW.value < 0 OR NEW.value > 100) AND EXISTS (
    SELECT 1 FROM targets_target t WHERE t.id = NEW.target_id AND t.value_type = 'percent'
  );
"""
SQLITE_ENTRY = """
SELECT RAISE(ABORT, 'CHECK constraint failed: entry value is not a percentage')
  WHERE (NEW.value < 0 OR NEW.value > 100) AND EXISTS (
    SELECT 1 FROM targets_target t WHERE t.id = NEW.target_id AND t.value_type = 'percent'
  );
"""
SQLITE_TRIGGERS = [
    ("targets_milestone_check", "targets_milestone", SQLITE_MILESTONE),
    ("targets_entry_check", "targets_progressentry", SQLITE_ENTRY),
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # params=None: the SQL holds plpgsql's own % placeholders, not the driver's.
        schema_editor.execute(PG_CREATE, params=None)
    elif vendor == "sqlite":
        for name, table, body in SQLITE_TRIGGERS:
            for event in ("INSERT", "UPDATE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON {table} "
                    f"FOR EACH ROW BEGIN {body} END;"
                )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)
    elif vendor == "sqlite":
        for name, _table, _body in SQLITE_TRIGGERS:
            for event in ("insert", "update"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{event};")


class Migration(migrations.Migration):
    dependencies = [("targets", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
