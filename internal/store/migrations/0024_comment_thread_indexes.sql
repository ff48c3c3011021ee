-- A consultation page lists the newest threads of a space (or of one of
-- its sections) and counts them. These partial indexes hold only thread
-- starts (parent_id IS NULL): the listing walks one backwards by id and
-- stops after a page, and the count reads the other alone, without
-- touching the table.
CREATE INDEX comments_space_threads ON comments (space_id, id) WHERE parent_id IS NULL;
CREATE INDEX comments_space_thread_count ON comments (space_id, section_id, status, author_id) WHERE parent_id IS NULL;
