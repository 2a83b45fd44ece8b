-- Alerts (issue 23): one row per alert raised, the subject of its `alert.raised` event in the
-- audit chain. The unique key (rule, subject, window_start) raises an alert once per rule, subject
-- and window, whichever API instance sees it first: the second insert finds the row and writes no
-- event. Written only with its event (src/alerts/store.ts), never updated or deleted.
CREATE TABLE "alerts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"rule" text NOT NULL,
	"subject" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"window_end" timestamp with time zone NOT NULL,
	"count" integer NOT NULL,
	"threshold" integer NOT NULL,
	"summary" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "alerts_rule_subject_window_unique" UNIQUE("rule", "subject", "window_start")
);
--> statement-breakpoint
CREATE INDEX "alerts_created_idx" ON "alerts" USING btree ("created_at", "id");
--> statement-breakpoint
CREATE TRIGGER alerts_no_update BEFORE UPDATE OR DELETE ON alerts
	FOR EACH ROW EXECUTE FUNCTION actas_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER alerts_no_truncate BEFORE TRUNCATE ON alerts
	FOR EACH STATEMENT EXECUTE FUNCTION actas_audit_append_only();
--> statement-breakpoint
-- An `alert.*` event's subject is its alert (0009's check, with alerts added).
CREATE OR REPLACE FUNCTION actas_audit_event_subject() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.type LIKE 'access.%' THEN
		PERFORM 1 FROM access_requests WHERE id = NEW.impersonation_id;
	ELSIF NEW.type LIKE 'organization.%' THEN
		PERFORM 1 FROM organization_access_settings WHERE subject_id = NEW.impersonation_id;
	ELSIF NEW.type LIKE 'alert.%' THEN
		PERFORM 1 FROM alerts WHERE id = NEW.impersonation_id;
	ELSE
		PERFORM 1 FROM impersonations WHERE id = NEW.impersonation_id;
	END IF;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'audit_events: the subject % of a % event does not exist', NEW.impersonation_id, NEW.type
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN NEW;
END $$;
