-- Log streams (issue 23): one row per stream the operator configured (LOG_STREAMS), the cursor of
-- what it has received. Events are read from the audit chain after `cursor_seq`, in chain order,
-- and the cursor moves only once the receiver accepted a batch: nothing is lost while a receiver
-- is down, whatever the time, and across restarts. `lease_until` keeps one batch of a stream in
-- flight across API instances. Written by src/log-streams/dispatcher.ts; never holds a token.
CREATE TABLE "log_streams" (
	"id" text PRIMARY KEY NOT NULL,
	"cursor_seq" bigint DEFAULT 0 NOT NULL,
	"state" text DEFAULT 'active' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"lease_until" timestamp with time zone,
	"delivered_events" bigint DEFAULT 0 NOT NULL,
	"last_delivered_at" timestamp with time zone,
	"last_attempt_at" timestamp with time zone,
	"last_status_code" integer,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "log_streams_state_check" CHECK ("state" IN ('active', 'retrying', 'failing')),
	CONSTRAINT "log_streams_cursor_check" CHECK ("cursor_seq" >= 0)
);
