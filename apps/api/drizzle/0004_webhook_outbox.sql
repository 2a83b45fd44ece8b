CREATE TABLE "webhook_outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"endpoint" text NOT NULL,
	"type" text NOT NULL,
	"impersonation_id" uuid NOT NULL,
	"event_seq" bigint NOT NULL,
	"body" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"last_status_code" integer,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"delivered_at" timestamp with time zone,
	"dead_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "webhook_outbox" ADD CONSTRAINT "webhook_outbox_event_seq_audit_events_seq_fk" FOREIGN KEY ("event_seq") REFERENCES "audit_events"("seq") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "webhook_outbox_due_idx" ON "webhook_outbox" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_outbox_created_idx" ON "webhook_outbox" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "webhook_outbox_status_idx" ON "webhook_outbox" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "webhook_outbox_event_idx" ON "webhook_outbox" USING btree ("event_seq");