-- The title search index (next migration: tasks_title_search_idx) needs two contrib extensions,
-- which drizzle-kit cannot declare: pg_trgm (trigram operator class for LIKE '%…%') and
-- btree_gin (a GIN operator class for text equality, so team_id leads the same index and a
-- search reads one workspace's entries). Both are trusted extensions: the database's owner may
-- create them without being a superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS btree_gin;
