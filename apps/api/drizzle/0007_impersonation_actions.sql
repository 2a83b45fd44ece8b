CREATE TABLE "impersonation_actions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "impersonation_actions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"impersonation_id" uuid NOT NULL,
	"clerk_session_id" text NOT NULL,
	"method" text NOT NULL,
	"route" text NOT NULL,
	"status" smallint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"reported_by" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "impersonation_actions" ADD CONSTRAINT "impersonation_actions_impersonation_id_impersonations_id_fk" FOREIGN KEY ("impersonation_id") REFERENCES "impersonations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "impersonation_actions_timeline_idx" ON "impersonation_actions" USING btree ("impersonation_id","at","id");--> statement-breakpoint
CREATE INDEX "audit_events_settling_seq_idx" ON "audit_events" USING btree ("seq") WHERE type in ('ended', 'ticket_revoked', 'failed');--> statement-breakpoint
CREATE INDEX "audit_events_settling_created_idx" ON "audit_events" USING btree ("created_at","seq") WHERE type in ('ended', 'ticket_revoked', 'failed');;--> statement-breakpoint
-- The action trail is append-only like the rest of the audit log (the function is 0002's).
CREATE TRIGGER impersonation_actions_append_only BEFORE UPDATE OR DELETE ON impersonation_actions
	FOR EACH ROW EXECUTE FUNCTION actas_audit_append_only();--> statement-breakpoint
CREATE TRIGGER impersonation_actions_no_truncate BEFORE TRUNCATE ON impersonation_actions
	FOR EACH STATEMENT EXECUTE FUNCTION actas_audit_append_only();
