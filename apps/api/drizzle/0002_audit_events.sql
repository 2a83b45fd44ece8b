-- Turning a large log into events takes longer than the API's statement timeout: not here.
SET LOCAL statement_timeout = 0;--> statement-breakpoint
CREATE TABLE "audit_chain_head" (
	"id" smallint PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"checkpoint_seq" bigint DEFAULT 0 NOT NULL,
	"checkpoint_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_checkpoints" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"signed_at" timestamp with time zone NOT NULL,
	"key_id" text NOT NULL,
	"signature" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"impersonation_id" uuid NOT NULL,
	"type" text NOT NULL,
	"cause" text,
	"by" text,
	"reason" text,
	"clerk_session_id" text,
	"data" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
DROP INDEX "impersonations_created_idx";--> statement-breakpoint
DROP INDEX "impersonations_actor_idx";--> statement-breakpoint
DROP INDEX "impersonations_user_idx";--> statement-breakpoint
DROP INDEX "impersonations_status_idx";--> statement-breakpoint
ALTER TABLE "impersonations" ADD COLUMN "clerk_session_id" text;--> statement-breakpoint
ALTER TABLE "impersonations" ADD COLUMN "signed_in_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "impersonations" ADD COLUMN "ended_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "impersonations" ADD COLUMN "end_cause" text;--> statement-breakpoint
ALTER TABLE "impersonations" ADD COLUMN "ended_by" text;--> statement-breakpoint
ALTER TABLE "impersonations" ADD COLUMN "end_reason" text;--> statement-breakpoint
ALTER TABLE "impersonations" ADD COLUMN "attempts" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_impersonation_id_impersonations_id_fk" FOREIGN KEY ("impersonation_id") REFERENCES "impersonations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_events_impersonation_idx" ON "audit_events" USING btree ("impersonation_id","seq");--> statement-breakpoint
CREATE INDEX "audit_events_issued_idx" ON "audit_events" USING btree ("created_at") WHERE type = 'issued';--> statement-breakpoint
CREATE INDEX "impersonations_actor_status_idx" ON "impersonations" USING btree ("actor_id","status","created_at","id");--> statement-breakpoint
CREATE INDEX "impersonations_open_idx" ON "impersonations" USING btree ("created_at") WHERE status in ('pending', 'issued', 'signed_in');--> statement-breakpoint
CREATE INDEX "impersonations_clerk_session_idx" ON "impersonations" USING btree ("clerk_session_id") WHERE clerk_session_id is not null;--> statement-breakpoint
CREATE INDEX "impersonations_created_idx" ON "impersonations" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "impersonations_actor_idx" ON "impersonations" USING btree ("actor_id","created_at","id");--> statement-breakpoint
CREATE INDEX "impersonations_user_idx" ON "impersonations" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "impersonations_status_idx" ON "impersonations" USING btree ("status","created_at","id");--> statement-breakpoint
-- The canonical text of an event, exactly as src/audit/chain.ts canonicalEvent builds it (a test
-- holds the two equal): a JSON array without spaces, strings escaped as JSON.stringify does.
CREATE FUNCTION actas_audit_canonical(
	p_seq bigint, p_impersonation_id uuid, p_type text, p_cause text, p_by text, p_reason text,
	p_clerk_session_id text, p_data text, p_created_at timestamp with time zone
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT '[' || p_seq::text
		|| ',' || to_json(p_impersonation_id::text)::text
		|| ',' || to_json(p_type)::text
		|| ',' || coalesce(to_json(p_cause)::text, 'null')
		|| ',' || coalesce(to_json(p_by)::text, 'null')
		|| ',' || coalesce(to_json(p_reason)::text, 'null')
		|| ',' || coalesce(to_json(p_clerk_session_id)::text, 'null')
		|| ',' || to_json(p_data)::text
		|| ',' || to_json(to_char(p_created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
		|| ']'
$$;--> statement-breakpoint
-- sha256(prev_hash ‖ canonical), hex.
CREATE FUNCTION actas_audit_hash(p_prev text, p_canonical text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT encode(sha256(convert_to(p_prev || p_canonical, 'UTF8')), 'hex')
$$;--> statement-breakpoint
-- Canonical JSON of a flat object (keys sorted, no spaces), for the migrated rows' details.
CREATE FUNCTION actas_audit_data(p_pairs text[]) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT '{' || coalesce(string_agg(to_json(k)::text || ':' || v, ',' ORDER BY k COLLATE "C"), '') || '}'
	FROM (SELECT p_pairs[i] AS k, p_pairs[i + 1] AS v FROM generate_subscripts(p_pairs, 1) AS i WHERE i % 2 = 1) AS pairs
	WHERE v IS NOT NULL
$$;--> statement-breakpoint
-- Existing rows become timelines: requested, then the outcome their status says (revoked: issued,
-- then ticket_revoked), chained in order of creation.
DO $$
DECLARE
	r record;
	e record;
	prev text := repeat('0', 64);
	n bigint := 0;
	canon text;
BEGIN
	FOR r IN SELECT * FROM impersonations ORDER BY created_at, id LOOP
		FOR e IN
			SELECT * FROM (VALUES
				(1, 'requested', r.actor_id, r.reason, r.created_at, actas_audit_data(ARRAY[
					'userId', to_json(r.user_id)::text,
					'ticketUrl', coalesce(to_json(r.ticket_url)::text, 'null'),
					'sessionMinutes', r.session_minutes::text,
					'actorSessionId', coalesce(to_json(r.actor_session_id)::text, 'null'),
					'actorOrganizationId', coalesce(to_json(r.actor_organization_id)::text, 'null'),
					'requestId', coalesce(to_json(r.request_id)::text, 'null'),
					'ip', coalesce(to_json(r.ip)::text, 'null'),
					'userAgent', coalesce(to_json(r.user_agent)::text, 'null')])),
				(2, CASE WHEN r.status IN ('issued', 'revoked') THEN 'issued' WHEN r.status IN ('denied', 'failed') THEN r.status END,
					NULL, NULL,
					CASE WHEN r.status = 'revoked' THEN r.created_at ELSE r.updated_at END,
					CASE WHEN r.status IN ('issued', 'revoked') THEN actas_audit_data(ARRAY[
						'actorEmail', to_json(r.actor_email)::text,
						'userEmail', to_json(r.user_email)::text,
						'clerkActorTokenId', to_json(r.clerk_actor_token_id)::text,
						'expiresAt', to_json(to_char(r.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text,
						'sessionExpiresAt', to_json(to_char(r.session_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text])
					ELSE actas_audit_data(ARRAY[
						'actorEmail', to_json(r.actor_email)::text,
						'userEmail', to_json(r.user_email)::text,
						'code', to_json(r.outcome_code)::text,
						'message', to_json(r.outcome_message)::text]) END),
				(3, CASE WHEN r.status = 'revoked' THEN 'ticket_revoked' END, r.revoked_by, NULL, r.updated_at, '{}')
			) AS t(ord, ev_type, ev_by, ev_reason, ev_at, ev_data)
			WHERE ev_type IS NOT NULL
			ORDER BY ord
		LOOP
			n := n + 1;
			canon := actas_audit_canonical(n, r.id, e.ev_type, NULL, e.ev_by, e.ev_reason, NULL, e.ev_data, date_trunc('milliseconds', e.ev_at));
			INSERT INTO audit_events (seq, impersonation_id, type, cause, "by", reason, clerk_session_id, data, created_at, prev_hash, hash)
				VALUES (n, r.id, e.ev_type, NULL, e.ev_by, e.ev_reason, NULL, e.ev_data, date_trunc('milliseconds', e.ev_at), prev, actas_audit_hash(prev, canon));
			prev := actas_audit_hash(prev, canon);
		END LOOP;
		IF r.status IN ('denied', 'failed', 'revoked') THEN
			UPDATE impersonations SET ended_at = updated_at,
				ended_by = CASE WHEN r.status = 'revoked' THEN revoked_by END
				WHERE id = r.id;
		END IF;
	END LOOP;
	INSERT INTO audit_chain_head (id, seq, hash, updated_at) VALUES (1, n, prev, now());
END $$;--> statement-breakpoint
-- Append-only: the database refuses to change or remove events and checkpoints (and audit reads,
-- and impersonation rows: their projection columns are updated, the rows never deleted).
CREATE FUNCTION actas_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege';
END
$$;--> statement-breakpoint
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
	FOR EACH ROW EXECUTE FUNCTION actas_audit_append_only();--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
	FOR EACH STATEMENT EXECUTE FUNCTION actas_audit_append_only();--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
	FOR EACH ROW EXECUTE FUNCTION actas_audit_append_only();--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION actas_audit_append_only();--> statement-breakpoint
CREATE TRIGGER audit_reads_append_only BEFORE UPDATE OR DELETE ON audit_reads
	FOR EACH ROW EXECUTE FUNCTION actas_audit_append_only();--> statement-breakpoint
CREATE TRIGGER impersonations_no_delete BEFORE DELETE ON impersonations
	FOR EACH ROW EXECUTE FUNCTION actas_audit_append_only();--> statement-breakpoint
CREATE TRIGGER impersonations_no_truncate BEFORE TRUNCATE ON impersonations
	FOR EACH STATEMENT EXECUTE FUNCTION actas_audit_append_only();
