CREATE TABLE "access_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"requested_by" text,
	"reason" text NOT NULL,
	"mode" text NOT NULL,
	"minutes" integer NOT NULL,
	"needs_consent" boolean NOT NULL,
	"needs_approval" boolean NOT NULL,
	"status" text NOT NULL,
	"consented_by" text,
	"approved_by" text,
	"decide_by" timestamp with time zone,
	"grant_mode" text,
	"granted_at" timestamp with time zone,
	"grant_ends_at" timestamp with time zone,
	"grant_note" text,
	"settled_at" timestamp with time zone,
	"settled_by" text,
	"settled_cause" text,
	"settled_reason" text,
	"refusals" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "organization_access_settings" (
	"organization_id" text PRIMARY KEY NOT NULL,
	"organization_name" text NOT NULL,
	"subject_id" uuid NOT NULL,
	"setting" text NOT NULL,
	"changed_by" text NOT NULL,
	"changed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "organization_access_settings_subject_id_unique" UNIQUE("subject_id")
);
--> statement-breakpoint
ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_impersonation_id_impersonations_id_fk";
--> statement-breakpoint
CREATE INDEX "access_requests_user_idx" ON "access_requests" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "access_requests_requested_by_idx" ON "access_requests" USING btree ("requested_by","created_at","id");--> statement-breakpoint
CREATE INDEX "access_requests_open_idx" ON "access_requests" USING btree ("user_id","status") WHERE status in ('pending', 'granted');--> statement-breakpoint
CREATE INDEX "access_requests_open_created_idx" ON "access_requests" USING btree ("created_at","id") WHERE status in ('pending', 'granted');--> statement-breakpoint
-- The access model's events share the chain (src/access/): `audit_events.impersonation_id` is the
-- event's subject, an impersonation, an access request (`access.*`) or an organization's setting
-- (`organization.*`). The foreign key to impersonations is replaced by this check of the subject
-- each event names.
CREATE FUNCTION actas_audit_event_subject() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.type LIKE 'access.%' THEN
		PERFORM 1 FROM access_requests WHERE id = NEW.impersonation_id;
	ELSIF NEW.type LIKE 'organization.%' THEN
		PERFORM 1 FROM organization_access_settings WHERE subject_id = NEW.impersonation_id;
	ELSE
		PERFORM 1 FROM impersonations WHERE id = NEW.impersonation_id;
	END IF;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'audit_events: the subject % of a % event does not exist', NEW.impersonation_id, NEW.type
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_events_subject BEFORE INSERT ON audit_events
	FOR EACH ROW EXECUTE FUNCTION actas_audit_event_subject();
--> statement-breakpoint
-- The access projections are written only by the event append (its transaction is marked, as in
-- 0008), never deleted; the facts of a request's first event never change.
CREATE FUNCTION actas_access_projection_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF coalesce(current_setting('actas.audit_append', true), '') <> 'on' THEN
		RAISE EXCEPTION '% is a projection of audit_events: % refused (only the event append writes it)', TG_TABLE_NAME, TG_OP
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF TG_OP = 'UPDATE' AND (
		NEW.id IS DISTINCT FROM OLD.id OR NEW.user_id IS DISTINCT FROM OLD.user_id
		OR NEW.requested_by IS DISTINCT FROM OLD.requested_by OR NEW.reason IS DISTINCT FROM OLD.reason
		OR NEW.mode IS DISTINCT FROM OLD.mode OR NEW.minutes IS DISTINCT FROM OLD.minutes
		OR NEW.needs_consent IS DISTINCT FROM OLD.needs_consent
		OR NEW.needs_approval IS DISTINCT FROM OLD.needs_approval
		OR NEW.created_at IS DISTINCT FROM OLD.created_at) THEN
		RAISE EXCEPTION 'access_requests %: the facts of its first event never change', OLD.id
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END $$;
--> statement-breakpoint
CREATE FUNCTION actas_organization_settings_projection_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF coalesce(current_setting('actas.audit_append', true), '') <> 'on' THEN
		RAISE EXCEPTION '% is a projection of audit_events: % refused (only the event append writes it)', TG_TABLE_NAME, TG_OP
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF TG_OP = 'UPDATE' AND (NEW.organization_id IS DISTINCT FROM OLD.organization_id
		OR NEW.subject_id IS DISTINCT FROM OLD.subject_id) THEN
		RAISE EXCEPTION 'organization_access_settings %: its identity never changes', OLD.organization_id
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER access_requests_projection_only BEFORE INSERT OR UPDATE ON access_requests
	FOR EACH ROW EXECUTE FUNCTION actas_access_projection_only();
--> statement-breakpoint
CREATE TRIGGER organization_access_settings_projection_only BEFORE INSERT OR UPDATE ON organization_access_settings
	FOR EACH ROW EXECUTE FUNCTION actas_organization_settings_projection_only();
--> statement-breakpoint
CREATE TRIGGER access_requests_no_delete BEFORE DELETE ON access_requests
	FOR EACH ROW EXECUTE FUNCTION actas_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER access_requests_no_truncate BEFORE TRUNCATE ON access_requests
	FOR EACH STATEMENT EXECUTE FUNCTION actas_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER organization_access_settings_no_delete BEFORE DELETE ON organization_access_settings
	FOR EACH ROW EXECUTE FUNCTION actas_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER organization_access_settings_no_truncate BEFORE TRUNCATE ON organization_access_settings
	FOR EACH STATEMENT EXECUTE FUNCTION actas_audit_append_only();
--> statement-breakpoint
-- At commit, a written row must say what its events say, where SQL can tell: the first event's
-- facts, the time of the last, and the settling event (who, when, which status). `audit:verify`
-- recomputes every column (src/access/verify.ts).
CREATE FUNCTION actas_access_requests_match_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r access_requests%ROWTYPE;
	fst audit_events%ROWTYPE;
	lst audit_events%ROWTYPE;
	fin audit_events%ROWTYPE;
	d jsonb;
BEGIN
	SELECT * INTO r FROM access_requests WHERE id = NEW.id;
	SELECT * INTO fst FROM audit_events WHERE impersonation_id = NEW.id ORDER BY seq LIMIT 1;
	SELECT * INTO lst FROM audit_events WHERE impersonation_id = NEW.id ORDER BY seq DESC LIMIT 1;
	SELECT * INTO fin FROM audit_events WHERE impersonation_id = NEW.id
		AND type IN ('access.denied', 'access.revoked', 'access.expired') ORDER BY seq DESC LIMIT 1;
	IF fst.seq IS NULL OR fst.type NOT IN ('access.requested', 'access.granted') THEN
		RAISE EXCEPTION 'access_requests %: no first event', NEW.id USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	d := fst.data::jsonb;
	IF r.user_id IS DISTINCT FROM d->>'userId' OR r.mode IS DISTINCT FROM d->>'mode'
		OR r.minutes::text IS DISTINCT FROM d->>'minutes' OR r.reason IS DISTINCT FROM coalesce(fst.reason, '')
		OR r.requested_by IS DISTINCT FROM (CASE WHEN fst.type = 'access.requested' THEN fst."by" END)
		OR r.created_at IS DISTINCT FROM fst.created_at OR r.updated_at IS DISTINCT FROM lst.created_at
		OR r.settled_at IS DISTINCT FROM fin.created_at OR r.settled_by IS DISTINCT FROM fin."by"
		OR r.status IS DISTINCT FROM coalesce(substring(fin.type FROM 8), r.status)
		OR (fin.seq IS NULL AND r.status NOT IN ('pending', 'granted')) THEN
		RAISE EXCEPTION 'access_requests %: the row disagrees with its events', NEW.id
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER access_requests_match_events AFTER INSERT OR UPDATE ON access_requests
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION actas_access_requests_match_events();
--> statement-breakpoint
CREATE FUNCTION actas_organization_settings_match_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r organization_access_settings%ROWTYPE;
	lst audit_events%ROWTYPE;
	d jsonb;
BEGIN
	SELECT * INTO r FROM organization_access_settings WHERE organization_id = NEW.organization_id;
	SELECT * INTO lst FROM audit_events WHERE impersonation_id = NEW.subject_id ORDER BY seq DESC LIMIT 1;
	d := lst.data::jsonb;
	IF lst.seq IS NULL OR lst.type <> 'organization.access_setting_changed'
		OR r.organization_id IS DISTINCT FROM d->>'organizationId' OR r.setting IS DISTINCT FROM d->>'to'
		OR r.organization_name IS DISTINCT FROM d->>'organizationName'
		OR r.changed_by IS DISTINCT FROM lst."by" OR r.changed_at IS DISTINCT FROM lst.created_at THEN
		RAISE EXCEPTION 'organization_access_settings %: the row disagrees with its events', NEW.organization_id
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER organization_access_settings_match_events AFTER INSERT OR UPDATE ON organization_access_settings
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION actas_organization_settings_match_events();
