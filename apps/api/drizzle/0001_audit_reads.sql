CREATE TABLE "audit_reads" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"machine_id" text NOT NULL,
	"token_id" text,
	"procedure" text NOT NULL,
	"params" jsonb NOT NULL,
	"row_count" integer NOT NULL,
	"request_id" text,
	"ip" text,
	"user_agent" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_reads_machine_idx" ON "audit_reads" USING btree ("machine_id","created_at" DESC NULLS LAST);