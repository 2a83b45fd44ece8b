CREATE TABLE "quota_reservations" (
	"impersonation_id" uuid PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "quota_reservations" ADD CONSTRAINT "quota_reservations_impersonation_id_impersonations_id_fk" FOREIGN KEY ("impersonation_id") REFERENCES "impersonations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "quota_reservations_expires_idx" ON "quota_reservations" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "audit_reads_created_idx" ON "audit_reads" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_received_idx" ON "webhook_deliveries" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "webhook_outbox_delivered_idx" ON "webhook_outbox" USING btree ("delivered_at") WHERE status = 'delivered';--> statement-breakpoint
-- The impersonations row is a projection of its events (src/audit/projection.ts): only the event
-- append writes it. The append marks its transaction (set_config('actas.audit_append', 'on',
-- true)); any other INSERT or UPDATE is refused, and so is an UPDATE of the facts the `requested`
-- event carries. (DELETE and TRUNCATE were refused since 0002.)
CREATE FUNCTION actas_impersonations_projection_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF coalesce(current_setting('actas.audit_append', true), '') <> 'on' THEN
		RAISE EXCEPTION 'impersonations is a projection of audit_events: % refused (only the event append writes it)', TG_OP
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF TG_OP = 'UPDATE' AND (
		NEW.id IS DISTINCT FROM OLD.id OR NEW.actor_id IS DISTINCT FROM OLD.actor_id
		OR NEW.user_id IS DISTINCT FROM OLD.user_id OR NEW.reason IS DISTINCT FROM OLD.reason
		OR NEW.session_minutes IS DISTINCT FROM OLD.session_minutes
		OR NEW.ticket_url IS DISTINCT FROM OLD.ticket_url
		OR NEW.actor_session_id IS DISTINCT FROM OLD.actor_session_id
		OR NEW.actor_organization_id IS DISTINCT FROM OLD.actor_organization_id
		OR NEW.request_id IS DISTINCT FROM OLD.request_id OR NEW.ip IS DISTINCT FROM OLD.ip
		OR NEW.user_agent IS DISTINCT FROM OLD.user_agent OR NEW.attempts IS DISTINCT FROM OLD.attempts
		OR NEW.created_at IS DISTINCT FROM OLD.created_at) THEN
		RAISE EXCEPTION 'impersonations %: the facts of its requested event never change', OLD.id
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER impersonations_projection_only BEFORE INSERT OR UPDATE ON impersonations
	FOR EACH ROW EXECUTE FUNCTION actas_impersonations_projection_only();
--> statement-breakpoint
-- At commit, a written row must say what its events say, where SQL can tell: the requested
-- event's facts (who, whom, why, length, request metadata, creation time), the time of its last
-- event, and who ended it, why and with which cause (its last `ended` or `ticket_revoked` event).
-- `audit:verify` recomputes every column (projection.ts).
CREATE FUNCTION actas_impersonations_match_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r impersonations%ROWTYPE;
	req audit_events%ROWTYPE;
	lst audit_events%ROWTYPE;
	fin audit_events%ROWTYPE;
	d jsonb;
BEGIN
	SELECT * INTO r FROM impersonations WHERE id = NEW.id;
	SELECT * INTO req FROM audit_events WHERE impersonation_id = NEW.id ORDER BY seq LIMIT 1;
	SELECT * INTO lst FROM audit_events WHERE impersonation_id = NEW.id ORDER BY seq DESC LIMIT 1;
	SELECT * INTO fin FROM audit_events
		WHERE impersonation_id = NEW.id AND type IN ('ended', 'ticket_revoked') ORDER BY seq DESC LIMIT 1;
	IF req.seq IS NULL OR req.type <> 'requested' THEN
		RAISE EXCEPTION 'impersonations %: no requested event', NEW.id USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	d := req.data::jsonb;
	IF r.actor_id IS DISTINCT FROM req."by" OR r.reason IS DISTINCT FROM req.reason
		OR r.user_id IS DISTINCT FROM d->>'userId'
		OR r.session_minutes::text IS DISTINCT FROM d->>'sessionMinutes'
		OR r.ticket_url IS DISTINCT FROM d->>'ticketUrl'
		OR r.actor_session_id IS DISTINCT FROM d->>'actorSessionId'
		OR r.actor_organization_id IS DISTINCT FROM d->>'actorOrganizationId'
		OR r.request_id IS DISTINCT FROM d->>'requestId' OR r.ip IS DISTINCT FROM d->>'ip'
		OR r.user_agent IS DISTINCT FROM d->>'userAgent'
		OR r.attempts::text IS DISTINCT FROM coalesce(d->>'attempts', '1')
		OR r.created_at IS DISTINCT FROM req.created_at
		OR r.updated_at IS DISTINCT FROM lst.created_at
		OR r.ended_by IS DISTINCT FROM fin."by" OR r.end_reason IS DISTINCT FROM fin.reason
		OR r.end_cause IS DISTINCT FROM fin.cause THEN
		RAISE EXCEPTION 'impersonations %: the row disagrees with its events', NEW.id
			USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER impersonations_match_events AFTER INSERT OR UPDATE ON impersonations
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION actas_impersonations_match_events();
--> statement-breakpoint
-- Retention (AUDIT_RETENTION_DAYS) deletes audit reads older than its cutoff, which it sets for
-- its transaction (set_config('actas.retention_cutoff', …, true)); every other UPDATE or DELETE
-- stays refused.
CREATE FUNCTION actas_audit_reads_retention_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	cutoff text := coalesce(current_setting('actas.retention_cutoff', true), '');
BEGIN
	IF TG_OP = 'DELETE' AND cutoff <> '' AND OLD.created_at < cutoff::timestamptz THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END $$;
--> statement-breakpoint
DROP TRIGGER audit_reads_append_only ON audit_reads;
--> statement-breakpoint
CREATE TRIGGER audit_reads_append_only BEFORE UPDATE OR DELETE ON audit_reads
	FOR EACH ROW EXECUTE FUNCTION actas_audit_reads_retention_only();
