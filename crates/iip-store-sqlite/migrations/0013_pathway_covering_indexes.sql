-- A participant's pathway is read on every record view, and every commit elsewhere (each
-- audited read is one) empties a reader's page cache. With the rows' columns in the index, a
-- participant's activities are read from one or two index pages instead of one table page a
-- row (rows of one participant are scattered over the table in the order they arrived).
CREATE INDEX activity_pathway ON activity (participant_row, date, id, program, hours_centi, element, occurrences);
CREATE INDEX assessment_pathway ON assessment (participant_row, date, instrument, score);
