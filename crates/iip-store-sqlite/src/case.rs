//! Case work on SQLite: one organization's participants and their pathways. Every write is
//! its own transaction that also bumps the store revision, and hands back the fact the
//! metrics snapshot applies, so the dashboard counts it at once.

use std::sync::Arc;

use iip_domain::Date;
use iip_domain::facts::{ActivityFact, AssessmentFact, MilestoneFact, ParticipantFact};
use iip_domain::records::{Activity, Assessment, MilestoneRecord, Participant};
use iip_store::sealing::Keys;
use iip_store::{
    CaseStore, Claim, Consent, ConsentScope, LinkedParticipant, NewConsent, ParticipantRecord, ParticipantSummary,
    Pathway, PathwayKind, Recorded, Refused, SharedRecord, StoreError, StoreResult, WriteResult,
};
use sqlx::{Row, SqliteConnection};

use iip_store::batch::{CaseWrite, Reply};

use crate::{SqliteStore, backend, identity, join_barriers, participant_fact};

async fn participant_row(tx: &mut SqliteConnection, org_id: &str, participant_id: &str) -> StoreResult<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM participant WHERE org_id = ? AND participant_id = ?")
        .bind(org_id)
        .bind(participant_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)
}

fn date(raw: &str) -> StoreResult<Date> {
    Date::parse(raw).map_err(|e| StoreError::Corrupt(format!("date {e}")))
}

impl CaseStore for SqliteStore {
    async fn search_participants(&self, org_id: &str, query: &str, limit: u32) -> StoreResult<Vec<ParticipantSummary>> {
        let query = query.trim();
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let keys = self.keys.as_deref();
        // Sealed names are found by their blind indexes: the whole query as a first or a last
        // name, or its first word as the first name and the rest as the last.
        let (mut whole_first, mut whole_last, mut split_first, mut split_last) = (None, None, None, None);
        if !query.is_empty() {
            whole_first = identity::search_index(keys, &mut conn, org_id, "first_name", query).await?;
            whole_last = identity::search_index(keys, &mut conn, org_id, "last_name", query).await?;
            if let Some((first, rest)) = query.split_once(char::is_whitespace) {
                split_first = identity::search_index(keys, &mut conn, org_id, "first_name", first).await?;
                split_last = identity::search_index(keys, &mut conn, org_id, "last_name", rest).await?;
            }
        }
        let rows = sqlx::query(concat!(
            "SELECT p.id, p.participant_id, p.primary_language, \
             (SELECT MAX(a.date) FROM activity a WHERE a.participant_row = p.id), ",
            identity::identity_columns!(),
            " FROM participant p LEFT JOIN participant_identity i ON i.participant_row = p.id \
             WHERE p.org_id = ?1 AND (?2 = '' OR p.participant_id LIKE ?3 || '%' ESCAPE '\\' \
                OR instr(lower(i.first_name), lower(?2)) > 0 OR instr(lower(i.last_name), lower(?2)) > 0 \
                OR instr(lower(i.first_name || ' ' || i.last_name), lower(?2)) > 0 \
                OR i.first_name_index = ?4 OR i.last_name_index = ?5 \
                OR (i.first_name_index = ?6 AND i.last_name_index = ?7)) \
             ORDER BY p.participant_id LIMIT ?8"
        ))
        .bind(org_id)
        .bind(query)
        .bind(query.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
        .bind(whole_first)
        .bind(whole_last)
        .bind(split_first)
        .bind(split_last)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let identity = identity::read(keys, &mut conn, row, 4, row.get(0), org_id).await?;
            let last: Option<String> = row.get(3);
            found.push(ParticipantSummary {
                participant_id: row.get(1),
                first_name: identity.first_name,
                last_name: identity.last_name,
                primary_language: row.get(2),
                last_activity: last.as_deref().map(date).transpose()?,
            });
        }
        Ok(found)
    }

    async fn participant_record(&self, org_id: &str, participant_id: &str) -> StoreResult<Option<ParticipantRecord>> {
        let Some(found) = self.readers.participant(org_id, participant_id)? else {
            return Ok(None);
        };
        self.open_record(org_id, found).await.map(Some)
    }

    async fn participant_with_pathway(
        &self,
        org_id: &str,
        participant_id: &str,
    ) -> StoreResult<Option<(ParticipantRecord, Arc<Pathway>)>> {
        let Some((found, pathway)) = self.readers.participant_with_pathway(org_id, participant_id)? else {
            return Ok(None);
        };
        Ok(Some((self.open_record(org_id, found).await?, pathway)))
    }

    async fn create_participant_once(&self, p: &Participant, claim: Option<&Claim>) -> WriteResult<ParticipantFact> {
        self.batch(|done| CaseWrite::Participant(Box::new(p.clone()), claim.cloned(), Reply::new(done)))
            .await
    }

    async fn record_activity_once(&self, a: &Activity, claim: Option<&Claim>) -> WriteResult<ActivityFact> {
        self.batch(|done| CaseWrite::Activity(a.clone(), claim.cloned(), Reply::new(done)))
            .await
    }

    async fn record_milestone_once(&self, m: &MilestoneRecord, claim: Option<&Claim>) -> WriteResult<MilestoneFact> {
        self.batch(|done| CaseWrite::Milestone(m.clone(), claim.cloned(), Reply::new(done)))
            .await
    }

    async fn record_assessment_once(&self, s: &Assessment, claim: Option<&Claim>) -> WriteResult<AssessmentFact> {
        self.batch(|done| CaseWrite::Assessment(s.clone(), claim.cloned(), Reply::new(done)))
            .await
    }

    async fn pathway(&self, participant_row: i64) -> StoreResult<Pathway> {
        self.readers.pathway(participant_row)
    }

    async fn create_self_assessment_link(
        &self,
        participant_row: i64,
        token_hash: &[u8],
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO self_assessment_link (token_hash, participant_row, created_at, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(participant_row)
        .bind(now)
        .bind(expires_at)
        .execute(&self.writer)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn self_assessment_link(&self, token_hash: &[u8], now: i64) -> StoreResult<Option<LinkedParticipant>> {
        let row = sqlx::query(
            "SELECT p.org_id, p.participant_id FROM self_assessment_link l JOIN participant p ON p.id = l.participant_row \
             WHERE l.token_hash = ? AND l.used_at IS NULL AND l.expires_at > ?",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(row.map(|r| LinkedParticipant {
            org_id: r.get(0),
            participant_id: r.get(1),
        }))
    }

    async fn use_self_assessment_link(&self, token_hash: &[u8], now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE self_assessment_link SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&self.writer)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_consent(&self, participant_row: i64, consent: &NewConsent<'_>) -> StoreResult<i64> {
        sqlx::query_scalar(
            "INSERT INTO consent (participant_row, partner_org_id, purpose, scope, valid_from, valid_to, recorded_by, recorded_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, strftime('%s', 'now')) RETURNING id",
        )
        .bind(participant_row)
        .bind(consent.partner_org_id)
        .bind(consent.purpose)
        .bind(consent.scope.as_str())
        .bind(consent.valid_from.to_string())
        .bind(consent.valid_to.map(|d| d.to_string()))
        .bind(consent.recorded_by)
        .fetch_one(&self.writer)
        .await
        .map_err(backend)
    }

    async fn revoke_consent(&self, participant_row: i64, consent_id: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE consent SET revoked_at = strftime('%s', 'now') \
             WHERE id = ? AND participant_row = ? AND revoked_at IS NULL",
        )
        .bind(consent_id)
        .bind(participant_row)
        .execute(&self.writer)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn consents(&self, participant_row: i64) -> StoreResult<Vec<Consent>> {
        let rows = sqlx::query(
            "SELECT id, partner_org_id, purpose, valid_from, valid_to, revoked_at IS NOT NULL, scope FROM consent \
             WHERE participant_row = ? ORDER BY id",
        )
        .bind(participant_row)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let to: Option<String> = r.get(4);
                Ok(Consent {
                    id: r.get(0),
                    partner_org_id: r.get(1),
                    purpose: r.get(2),
                    scope: consent_scope(&r.get::<String, _>(6))?,
                    valid_from: date(&r.get::<String, _>(3))?,
                    valid_to: to.as_deref().map(date).transpose()?,
                    revoked: r.get::<i64, _>(5) != 0,
                })
            })
            .collect()
    }

    async fn shared_with(&self, partner_org_id: &str, day: Date) -> StoreResult<Vec<SharedRecord>> {
        let day = day.to_string();
        let rows = sqlx::query(
            "SELECT p.org_id, p.participant_id, c.id, c.purpose, c.valid_to, c.scope FROM consent c \
             JOIN participant p ON p.id = c.participant_row \
             WHERE c.partner_org_id = ?1 AND c.revoked_at IS NULL AND c.valid_from <= ?2 \
               AND (c.valid_to IS NULL OR ?2 <= c.valid_to) \
             ORDER BY p.org_id, p.participant_id, c.id",
        )
        .bind(partner_org_id)
        .bind(day)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let to: Option<String> = r.get(4);
                Ok(SharedRecord {
                    owner_org_id: r.get(0),
                    participant_id: r.get(1),
                    consent_id: r.get(2),
                    purpose: r.get(3),
                    scope: consent_scope(&r.get::<String, _>(5))?,
                    valid_to: to.as_deref().map(date).transpose()?,
                })
            })
            .collect()
    }

    async fn add_pathway_item(
        &self,
        participant_row: i64,
        kind: PathwayKind,
        element: &str,
        description: &str,
        target_date: Option<Date>,
        today: Date,
    ) -> StoreResult<i64> {
        sqlx::query_scalar(
            "INSERT INTO pathway_item (participant_row, kind, element, description, target_date, created_on) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(participant_row)
        .bind(kind.as_str())
        .bind(element)
        .bind(description)
        .bind(target_date.map(|d| d.to_string()))
        .bind(today.to_string())
        .fetch_one(&self.writer)
        .await
        .map_err(backend)
    }
}

// The writes of case work, run by the group-commit writer (`batch.rs`) inside its
// transaction. Each is given the store revision it will have if kept; a refused write has
// written nothing (every check comes before the first change), so the batch goes on.

pub(crate) async fn create_participant(
    keys: Option<&Keys>,
    tx: &mut SqliteConnection,
    p: &Participant,
    revision: i64,
) -> WriteResult<ParticipantFact> {
    let org_known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM organization WHERE org_id = ?")
        .bind(p.org_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
    if org_known.is_none() {
        return Ok(Err(Refused::Unknown));
    }
    let row: Option<i64> = sqlx::query_scalar(
        "INSERT INTO participant (org_id, participant_id, person_key, gender, race_ethnicity, \
         country_of_birth, primary_language, us_arrival_year, zip, barriers, birth_year) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, participant_id) DO NOTHING RETURNING id",
    )
    .bind(p.org_id.as_str())
    .bind(p.participant_id.as_str())
    .bind(p.person_key.as_ref().map(|k| k.as_str()))
    .bind(p.gender.map(|g| g.as_str()))
    .bind(p.race_ethnicity.map(|r| r.as_str()))
    .bind(p.country_of_birth.as_ref().map(|c| c.as_str()))
    .bind(p.primary_language.as_ref().map(|l| l.as_str()))
    .bind(p.us_arrival_year)
    .bind(p.zip.as_ref().map(|z| z.as_str()))
    .bind(join_barriers(p))
    .bind(p.identity.date_of_birth.map(|d| d.year()))
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    let Some(row) = row else {
        return Ok(Err(Refused::Duplicate));
    };
    identity::write(keys, tx, row, p.org_id.as_str(), &p.identity).await?;
    let fact = sqlx::query(
        "SELECT id, org_id, participant_id, person_key, gender, race_ethnicity, country_of_birth, \
         primary_language, us_arrival_year, birth_year, barriers FROM participant WHERE id = ?",
    )
    .bind(row)
    .fetch_one(&mut *tx)
    .await
    .map_err(backend)?;
    let fact = participant_fact(&fact)?;
    Ok(Ok(Recorded {
        revision,
        fact: Some(fact),
    }))
}

pub(crate) async fn record_activity(
    tx: &mut SqliteConnection,
    a: &Activity,
    revision: i64,
) -> WriteResult<ActivityFact> {
    // One statement: the participant's row found and the session counted, or no row at all.
    let row: Option<i64> = sqlx::query_scalar(
        "INSERT INTO activity (participant_row, date, program, hours_centi, element) \
         SELECT id, ?, ?, ?, ? FROM participant WHERE org_id = ? AND participant_id = ? \
         ON CONFLICT (participant_row, date, program, hours_centi, element) \
         DO UPDATE SET occurrences = activity.occurrences + 1 RETURNING participant_row",
    )
    .bind(a.date.to_string())
    .bind(a.program.as_str())
    .bind(i64::from(a.hours.hundredths()))
    .bind(a.element.clone().unwrap_or_default())
    .bind(a.org_id.as_str())
    .bind(a.participant_id.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    let Some(row) = row else {
        return Ok(Err(Refused::Unknown));
    };
    Ok(Ok(Recorded {
        revision,
        fact: Some(ActivityFact {
            participant_row: row,
            day: a.date.day_number(),
            program: a.program,
            hundredths: a.hours.hundredths(),
        }),
    }))
}

pub(crate) async fn record_milestone(
    tx: &mut SqliteConnection,
    m: &MilestoneRecord,
    revision: i64,
) -> WriteResult<MilestoneFact> {
    let row: Option<i64> = sqlx::query_scalar(
        "INSERT INTO milestone (participant_row, date, milestone, element) \
         SELECT id, ?, ?, ? FROM participant WHERE org_id = ? AND participant_id = ? \
         ON CONFLICT (participant_row, milestone, date) DO NOTHING RETURNING participant_row",
    )
    .bind(m.date.to_string())
    .bind(&m.milestone)
    .bind(&m.element)
    .bind(m.org_id.as_str())
    .bind(m.participant_id.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    let Some(row) = row else {
        // Nothing written: say whether the participant or the milestone was the reason.
        return Ok(Err(
            match participant_row(tx, m.org_id.as_str(), m.participant_id.as_str()).await? {
                Some(_) => Refused::Duplicate,
                None => Refused::Unknown,
            },
        ));
    };
    Ok(Ok(Recorded {
        revision,
        fact: Some(MilestoneFact {
            participant_row: row,
            day: m.date.day_number(),
            milestone: m.milestone.clone(),
        }),
    }))
}

pub(crate) async fn record_assessment(
    tx: &mut SqliteConnection,
    s: &Assessment,
    revision: i64,
) -> WriteResult<AssessmentFact> {
    let Some(row) = participant_row(tx, s.org_id.as_str(), s.participant_id.as_str()).await? else {
        return Ok(Err(Refused::Unknown));
    };
    let replaced: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM assessment WHERE participant_row = ? AND date = ? AND instrument = ?")
            .bind(row)
            .bind(s.date.to_string())
            .bind(s.instrument.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
    sqlx::query(
        "INSERT INTO assessment (participant_row, date, instrument, score) VALUES (?, ?, ?, ?) \
         ON CONFLICT (participant_row, date, instrument) DO UPDATE SET score = excluded.score",
    )
    .bind(row)
    .bind(s.date.to_string())
    .bind(s.instrument.as_str())
    .bind(s.score)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    Ok(Ok(Recorded {
        revision,
        // A replaced score is not a new fact: readers rebuild.
        fact: replaced.is_none().then(|| AssessmentFact {
            participant_row: row,
            day: s.date.day_number(),
            instrument: s.instrument.as_str().to_owned(),
            score: s.score,
        }),
    }))
}

/// A stored consent scope (written by this crate from `ConsentScope::as_str`).
fn consent_scope(raw: &str) -> StoreResult<ConsentScope> {
    ConsentScope::parse(raw).map_err(StoreError::Corrupt)
}

impl SqliteStore {
    /// A participant's record from its stored row, its identity opened.
    async fn open_record(&self, org_id: &str, found: crate::point::ParticipantRow) -> StoreResult<ParticipantRecord> {
        let identity = match self.keys.as_deref() {
            Some(keys) if found.identity.is_sealed() => {
                let mut conn = self.pool.acquire().await.map_err(backend)?;
                let key = identity::data_key(keys, &mut conn, org_id).await?;
                iip_store::sealing::open(Some(&key), found.row, org_id, found.identity)?
            }
            _ => iip_store::sealing::open(None, found.row, org_id, found.identity)?,
        };
        Ok(ParticipantRecord {
            row: found.row,
            participant: found.columns.into_participant(identity)?,
        })
    }
}
