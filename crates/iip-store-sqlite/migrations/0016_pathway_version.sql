-- A participant's pathway (activities, milestones, assessments, needs and goals) is kept in
-- the server's memory between its changes (`point.rs`), so an audited record read need not
-- read ninety rows again after every commit. `pathway_version` says whether a kept pathway is
-- still the stored one: every change to those rows moves the participant's version, by
-- triggers, so a change made by another process on the same file (an `iip import` beside
-- `iip serve`) is seen too. The versions have a narrow table of their own: a batch of writes
-- to many participants then dirties a few of its pages rather than one participant page
-- each. SQLite may give a deleted participant's row id to a new one; the high 32 bits are a
-- generation taken afresh by every new participant, so a new row never matches a pathway
-- kept for the old one.
CREATE TABLE pathway_generation (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    next INTEGER NOT NULL
) STRICT;
INSERT INTO pathway_generation (id, next) SELECT 1, coalesce(max(id), 0) + 1 FROM participant;

CREATE TABLE pathway_version (
    participant_row INTEGER PRIMARY KEY,
    version         INTEGER NOT NULL
) STRICT;
INSERT INTO pathway_version (participant_row, version) SELECT id, id << 32 FROM participant;

CREATE TRIGGER participant_generation AFTER INSERT ON participant
BEGIN
    INSERT OR REPLACE INTO pathway_version (participant_row, version)
    VALUES (NEW.id, (SELECT next FROM pathway_generation WHERE id = 1) << 32);
    UPDATE pathway_generation SET next = next + 1 WHERE id = 1;
END;

CREATE TRIGGER participant_gone AFTER DELETE ON participant
BEGIN
    DELETE FROM pathway_version WHERE participant_row = OLD.id;
END;

CREATE TRIGGER activity_added AFTER INSERT ON activity
BEGIN
    UPDATE pathway_version SET version = version + 1 WHERE participant_row = NEW.participant_row;
END;

CREATE TRIGGER activity_changed AFTER UPDATE ON activity
BEGIN
    UPDATE pathway_version SET version = version + 1 WHERE participant_row IN (OLD.participant_row, NEW.participant_row);
END;

CREATE TRIGGER activity_removed AFTER DELETE ON activity
BEGIN
    UPDATE pathway_version SET version = version + 1 WHERE participant_row = OLD.participant_row;
END;

CREATE TRIGGER milestone_added AFTER INSERT ON milestone
BEGIN
    UPDATE pathway_version SET version = version + 1 WHERE participant_row = NEW.participant_row;
END;

CREATE TRIGGER milestone_changed AFTER UPDATE ON milestone
BEGIN
    UPDATE pathway_version SET version = version + 1 WHERE participant_row IN (OLD.participant_row, NEW.participant_row);
END;

CREATE TRIGGER milestone_removed AFTER DELETE ON milestone
BEGIN
    UPDATE pathway_version SET version = version + 1 WHERE participant_row = OLD.participant_row;
END;

CREATE TRIGGER assessment_added AFTER INSERT ON assessment
BEGIN
    UPDATE pathway_version SET version = version + 1 WHERE participant_row = NEW.participant_row;
END;

CREATE TRIGGER assessment_changed AFTER UPDATE ON assessment
BEGIN
    UPDATE pathway_version SET version = version + 1 WHERE participant_row IN (OLD.participant_row, NEW.participant_row);
END;

CREATE TRIGGER assessment_removed AFTER DELETE ON assessment
BEGIN
    UPDATE pathway_version SET version = version + 1 WHERE participant_row = OLD.participant_row;
END;

CREATE TRIGGER pathway_item_added AFTER INSERT ON pathway_item
BEGIN
    UPDATE pathway_version SET version = version + 1 WHERE participant_row = NEW.participant_row;
END;

CREATE TRIGGER pathway_item_changed AFTER UPDATE ON pathway_item
BEGIN
    UPDATE pathway_version SET version = version + 1 WHERE participant_row IN (OLD.participant_row, NEW.participant_row);
END;

CREATE TRIGGER pathway_item_removed AFTER DELETE ON pathway_item
BEGIN
    UPDATE pathway_version SET version = version + 1 WHERE participant_row = OLD.participant_row;
END;
