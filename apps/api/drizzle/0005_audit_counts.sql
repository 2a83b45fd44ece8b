-- No write may slip between the triggers' creation and the backfill below.
LOCK TABLE "impersonations", "audit_events" IN SHARE ROW EXCLUSIVE MODE;--> statement-breakpoint
CREATE TABLE "audit_counts" (
	"day" date NOT NULL,
	"key" text NOT NULL,
	"n" bigint NOT NULL,
	CONSTRAINT "audit_counts_key_day_pk" PRIMARY KEY("key","day")
);
--> statement-breakpoint
-- Kept by the database in the writing transaction, whoever writes (the API, an older instance
-- during a rolling deploy, a bulk load): statement triggers with transition tables, so a bulk
-- insert costs one aggregate upsert.
CREATE FUNCTION actas_count_impersonations_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO audit_counts (day, key, n)
		SELECT (created_at AT TIME ZONE 'UTC')::date, 'status:' || status, count(*)
		FROM actas_new_rows GROUP BY 1, 2
	ON CONFLICT (key, day) DO UPDATE SET n = audit_counts.n + excluded.n;
	RETURN NULL;
END
$$;--> statement-breakpoint
CREATE FUNCTION actas_count_impersonations_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO audit_counts (day, key, n)
		SELECT day, key, sum(d) FROM (
			SELECT (o.created_at AT TIME ZONE 'UTC')::date AS day, 'status:' || o.status AS key, -1 AS d
			FROM actas_old_rows o JOIN actas_new_rows r ON r.id = o.id
			WHERE r.status IS DISTINCT FROM o.status OR r.created_at IS DISTINCT FROM o.created_at
			UNION ALL
			SELECT (r.created_at AT TIME ZONE 'UTC')::date, 'status:' || r.status, 1
			FROM actas_old_rows o JOIN actas_new_rows r ON r.id = o.id
			WHERE r.status IS DISTINCT FROM o.status OR r.created_at IS DISTINCT FROM o.created_at
		) AS changes GROUP BY day, key HAVING sum(d) <> 0
	ON CONFLICT (key, day) DO UPDATE SET n = audit_counts.n + excluded.n;
	RETURN NULL;
END
$$;--> statement-breakpoint
CREATE FUNCTION actas_count_events_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO audit_counts (day, key, n)
		SELECT (created_at AT TIME ZONE 'UTC')::date, 'event:issued', count(*)
		FROM actas_new_rows WHERE type = 'issued' GROUP BY 1
	ON CONFLICT (key, day) DO UPDATE SET n = audit_counts.n + excluded.n;
	RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER impersonations_count_insert AFTER INSERT ON impersonations
	REFERENCING NEW TABLE AS actas_new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION actas_count_impersonations_insert();--> statement-breakpoint
CREATE TRIGGER impersonations_count_update AFTER UPDATE ON impersonations
	REFERENCING OLD TABLE AS actas_old_rows NEW TABLE AS actas_new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION actas_count_impersonations_update();--> statement-breakpoint
CREATE TRIGGER audit_events_count_insert AFTER INSERT ON audit_events
	REFERENCING NEW TABLE AS actas_new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION actas_count_events_insert();--> statement-breakpoint
-- What is already there.
INSERT INTO audit_counts (day, key, n)
	SELECT (created_at AT TIME ZONE 'UTC')::date, 'status:' || status, count(*) FROM impersonations GROUP BY 1, 2;--> statement-breakpoint
INSERT INTO audit_counts (day, key, n)
	SELECT (created_at AT TIME ZONE 'UTC')::date, 'event:issued', count(*) FROM audit_events WHERE type = 'issued' GROUP BY 1
	ON CONFLICT (key, day) DO UPDATE SET n = audit_counts.n + excluded.n;
