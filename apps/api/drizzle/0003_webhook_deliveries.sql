CREATE TABLE "webhook_deliveries" (
	"svix_id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL
);
