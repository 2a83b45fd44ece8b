CREATE TABLE "impersonations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"actor_id" text NOT NULL,
	"actor_email" text,
	"actor_session_id" text,
	"actor_organization_id" text,
	"user_id" text NOT NULL,
	"user_email" text,
	"reason" text NOT NULL,
	"ticket_url" text,
	"session_minutes" integer NOT NULL,
	"status" text NOT NULL,
	"outcome_code" text,
	"outcome_message" text,
	"clerk_actor_token_id" text,
	"expires_at" timestamp with time zone,
	"session_expires_at" timestamp with time zone,
	"revoked_by" text,
	"request_id" text,
	"ip" text,
	"user_agent" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "impersonations_created_idx" ON "impersonations" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "impersonations_actor_idx" ON "impersonations" USING btree ("actor_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "impersonations_user_idx" ON "impersonations" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "impersonations_status_idx" ON "impersonations" USING btree ("status","created_at" DESC NULLS LAST);