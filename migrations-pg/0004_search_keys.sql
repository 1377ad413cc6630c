-- The title search's index keys (src/store/pg/search.ts): every trigram (three characters) of the
-- folded title, prefixed with the task's workspace, so each key's GIN list holds one workspace's
-- tasks and a search reads only its own workspace's part of the index. Characters are taken as
-- they are, in any script, as SQLite's FTS5 trigram tokenizer takes them: no locale involved.
-- Built from C functions only, so a title costs tens of microseconds, not a row per trigram: the
-- three readings of the title in steps of three characters (from the 1st, 2nd and 3rd character,
-- each cut to whole steps) give every trigram once; each is prefixed with the workspace and
-- followed by chr(1), which a folded title never holds (folding turns control characters into
-- spaces), and the whole is split there. Workspace ids are Slack ids (letters and digits), so
-- they are literal in the replacement. IMMUTABLE, as an index expression must be.
CREATE FUNCTION tasklane_search_keys(team text, folded text) RETURNS text[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT array_remove(string_to_array(
      regexp_replace(substr(folded, 1, char_length(folded) / 3 * 3), '(...)', team || ':\1' || chr(1), 'g')
   || regexp_replace(substr(folded, 2, greatest(char_length(folded) - 1, 0) / 3 * 3), '(...)', team || ':\1' || chr(1), 'g')
   || regexp_replace(substr(folded, 3, greatest(char_length(folded) - 2, 0) / 3 * 3), '(...)', team || ':\1' || chr(1), 'g'),
    chr(1)), '') $$;--> statement-breakpoint
DROP INDEX "tasks_title_search_idx";--> statement-breakpoint
CREATE INDEX "tasks_search_keys_idx" ON "tasks" USING gin (tasklane_search_keys("team_id", "title_search")) WITH (fastupdate=off);
