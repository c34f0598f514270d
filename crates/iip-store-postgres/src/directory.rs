//! The partnership side of the store on PostgreSQL: the service directory, agreements between
//! organizations, community figures and closed-loop referrals, with the same behaviour as the
//! SQLite store. Each write is one transaction; none moves the store revision (no metric fact
//! changes). Referral notes and event reasons are sealed under the sending
//! organization's data key when the store has a master key, like identities.

use std::collections::{BTreeSet, HashMap};

use iip_directory::{
    CommunityFigure, NeedSignal, NewReferral, Partnership, PartnershipKind, Referral, ReferralEvent, ReferralStatus,
    Service,
};
use iip_domain::records::{MilestoneRecord, Organization};
use iip_domain::{Id, Level, Sector};
use iip_store::directory_codec::{
    corrupt, parse_date, parse_id, place, service_document, service_from, split_areas, status,
};
use iip_store::sealing::{self, Keys};
use iip_store::{DirectoryStore, ReferralFilter, Refused, StoreError, StoreResult, Written};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::{PgImport, PgStore, backend, identity};

/// The tables (and columns) whose sealed text is bound to them in its associated data.
const REFERRAL_TABLE: &str = "referral";
const EVENT_TABLE: &str = "referral_event";

async fn store_has_data_keys(conn: &mut PgConnection) -> StoreResult<bool> {
    let any: Option<i32> = sqlx::query_scalar("SELECT 1 FROM org_key LIMIT 1")
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(any.is_some())
}

/// A free text's two columns, `(clear, sealed)`: sealed under `org_id`'s data key with a
/// master key; in the clear without one, unless the store keeps data keys (then refused).
async fn seal_text(
    keys: Option<&Keys>,
    conn: &mut PgConnection,
    (table, column, record, org_id): (&str, &str, i64, &str),
    value: Option<&str>,
) -> StoreResult<(Option<String>, Option<Vec<u8>>)> {
    let Some(value) = value else { return Ok((None, None)) };
    match keys {
        Some(keys) => {
            let key = identity::data_key(keys, conn, org_id).await?;
            let sealed = key
                .seal(&place(table, column, record, org_id), value)
                .map_err(|e| StoreError::Corrupt(format!("{table}.{column}: {e}")))?;
            Ok((None, Some(sealed)))
        }
        None if store_has_data_keys(conn).await? => Err(sealing::key_needed()),
        None => Ok((Some(value.to_owned()), None)),
    }
}

/// Opens a free text stored by [`seal_text`].
async fn open_text(
    keys: Option<&Keys>,
    conn: &mut PgConnection,
    (table, column, record, org_id): (&str, &str, i64, &str),
    clear: Option<String>,
    sealed: Option<Vec<u8>>,
) -> StoreResult<Option<String>> {
    let Some(sealed) = sealed else { return Ok(clear) };
    let Some(keys) = keys else {
        return Err(StoreError::Backend(
            "referral notes are encrypted: give the master key (--key-file or IIP_MASTER_KEY)".into(),
        ));
    };
    let key = identity::data_key(keys, conn, org_id).await?;
    key.open(&place(table, column, record, org_id), &sealed)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("{table}.{column}: {e}")))
}

/// Appends one event to a referral (its reason sealed under the sender's key).
async fn insert_event(
    keys: Option<&Keys>,
    conn: &mut PgConnection,
    referral_id: i64,
    from_org_id: &str,
    event: &ReferralEvent,
) -> StoreResult<()> {
    let event_id: i64 = sqlx::query_scalar(
        "INSERT INTO referral_event (referral_id, status, at, by_user, by_org_id) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(referral_id)
    .bind(event.status.as_str())
    .bind(event.at)
    .bind(event.by_user)
    .bind(&event.by_org_id)
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    if event.reason.is_some() {
        let (clear, sealed) = seal_text(
            keys,
            conn,
            (EVENT_TABLE, "reason", event_id, from_org_id),
            event.reason.as_deref(),
        )
        .await?;
        sqlx::query("UPDATE referral_event SET reason = $1, sealed_reason = $2 WHERE id = $3")
            .bind(clear)
            .bind(sealed)
            .bind(event_id)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

/// Seals every referral note and event reason still in the clear (after `iip keys init`);
/// run inside the caller's transaction. Returns how many texts were sealed.
pub(crate) async fn seal_clear_texts(keys: &Keys, conn: &mut PgConnection) -> StoreResult<u64> {
    let notes = sqlx::query("SELECT id, from_org_id, note FROM referral WHERE note IS NOT NULL")
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    let reasons = sqlx::query(
        "SELECT e.id, r.from_org_id, e.reason FROM referral_event e JOIN referral r ON r.id = e.referral_id \
         WHERE e.reason IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    for row in &notes {
        let (id, org, note): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
        let (_, sealed) = seal_text(Some(keys), conn, (REFERRAL_TABLE, "note", id, &org), Some(&note)).await?;
        sqlx::query("UPDATE referral SET note = NULL, sealed_note = $1 WHERE id = $2")
            .bind(sealed)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    for row in &reasons {
        let (id, org, reason): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
        let (_, sealed) = seal_text(Some(keys), conn, (EVENT_TABLE, "reason", id, &org), Some(&reason)).await?;
        sqlx::query("UPDATE referral_event SET reason = NULL, sealed_reason = $1 WHERE id = $2")
            .bind(sealed)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    Ok((notes.len() + reasons.len()) as u64)
}

/// Deletes what a forgotten organization offered, agreed and referred.
pub(crate) async fn forget_organization(conn: &mut PgConnection, org_id: &str) -> StoreResult<()> {
    for statement in [
        "DELETE FROM referral WHERE from_org_id = $1 OR to_org_id = $1",
        "DELETE FROM partnership WHERE org_id = $1 OR partner_org_id = $1",
        "DELETE FROM service WHERE org_id = $1",
    ] {
        sqlx::query(statement)
            .bind(org_id)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

/// Deletes a forgotten participant's referrals (their events go with them).
pub(crate) async fn forget_participant(conn: &mut PgConnection, org_id: &str, participant_id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM referral WHERE from_org_id = $1 AND participant_id = $2")
        .bind(org_id)
        .bind(participant_id)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

/// The referral columns every read selects, in this order (a macro so queries stay literals).
macro_rules! referral_select {
    () => {
        "SELECT r.id, r.from_org_id, r.participant_id, r.to_org_id, r.service_id, r.element, r.note, \
         r.sealed_note, r.status, r.outcome_milestone FROM referral r "
    };
}

/// The event columns every read selects, in this order.
macro_rules! event_select {
    () => {
        "SELECT e.referral_id, e.id, e.status, e.at, e.by_user, e.by_org_id, e.reason, e.sealed_reason, \
         r.from_org_id FROM referral_event e JOIN referral r ON r.id = e.referral_id "
    };
}

async fn referral_from(keys: Option<&Keys>, conn: &mut PgConnection, row: &PgRow) -> StoreResult<Referral> {
    let id: i64 = row.get(0);
    let from_org_id: String = row.get(1);
    let note = open_text(
        keys,
        conn,
        (REFERRAL_TABLE, "note", id, &from_org_id),
        row.get(6),
        row.get(7),
    )
    .await?;
    Ok(Referral {
        id,
        participant_id: row.get(2),
        to_org_id: row.get(3),
        service_id: row.get(4),
        element: row.get(5),
        note,
        status: status(row.get(8))?,
        outcome_milestone: row.get(9),
        events: Vec::new(),
        from_org_id,
    })
}

/// Referrals (rows of `referral_select!`) with their events (rows of `event_select!`, oldest
/// first), in the referrals' order.
async fn assemble(
    keys: Option<&Keys>,
    conn: &mut PgConnection,
    referrals: &[PgRow],
    events: &[PgRow],
) -> StoreResult<Vec<Referral>> {
    let mut by_referral: HashMap<i64, Vec<ReferralEvent>> = HashMap::new();
    for row in events {
        let event_id: i64 = row.get(1);
        let from_org_id: String = row.get(8);
        let reason = open_text(
            keys,
            conn,
            (EVENT_TABLE, "reason", event_id, &from_org_id),
            row.get(6),
            row.get(7),
        )
        .await?;
        by_referral.entry(row.get(0)).or_default().push(ReferralEvent {
            status: status(row.get(2))?,
            at: row.get(3),
            by_user: row.get(4),
            by_org_id: row.get(5),
            reason,
        });
    }
    let mut found = Vec::with_capacity(referrals.len());
    for row in referrals {
        let mut referral = referral_from(keys, conn, row).await?;
        referral.events = by_referral.remove(&referral.id).unwrap_or_default();
        found.push(referral);
    }
    Ok(found)
}

impl DirectoryStore for PgStore {
    async fn organization_records(&self) -> StoreResult<Vec<Organization>> {
        let rows = sqlx::query(
            "SELECT org_id, name, sector, level, parent_id, area, areas_served FROM organization \
             ORDER BY org_id COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let parent: Option<String> = row.get(4);
                let served: Option<String> = row.get(6);
                Ok(Organization {
                    org_id: parse_id(row.get(0), "organization org_id")?,
                    name: row.get(1),
                    sector: Sector::parse(row.get(2)).map_err(corrupt("organization sector"))?,
                    level: Level::parse(row.get(3)).map_err(corrupt("organization level"))?,
                    parent_id: parent
                        .as_deref()
                        .map(|p| parse_id(p, "organization parent_id"))
                        .transpose()?,
                    area: row.get(5),
                    areas_served: split_areas(served.as_deref()),
                })
            })
            .collect()
    }

    async fn put_services(&self, services: &[Service]) -> StoreResult<Result<u64, Refused>> {
        let mut tx = self.write().await?;
        let orgs: BTreeSet<&str> = services.iter().map(|s| s.org_id.as_str()).collect();
        for org in orgs {
            let known: Option<i32> = sqlx::query_scalar("SELECT 1 FROM organization WHERE org_id = $1")
                .bind(org)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
            if known.is_none() {
                return Ok(Err(Refused::Unknown));
            }
        }
        for s in services {
            sqlx::query(
                "INSERT INTO service (service_id, org_id, document) VALUES ($1, $2, $3) \
                 ON CONFLICT (service_id) DO UPDATE SET org_id = excluded.org_id, document = excluded.document",
            )
            .bind(s.service_id.as_str())
            .bind(s.org_id.as_str())
            .bind(service_document(s)?)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        crate::commit(tx).await?;
        Ok(Ok(services.len() as u64))
    }

    async fn services(&self) -> StoreResult<Vec<Service>> {
        let rows = sqlx::query(
            "SELECT service_id, org_id, document FROM service ORDER BY org_id COLLATE \"C\", service_id COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| service_from(row.get(0), row.get(1), row.get(2)))
            .collect()
    }

    async fn put_partnerships(&self, partnerships: &[Partnership]) -> StoreResult<Result<u64, Refused>> {
        let mut tx = self.write().await?;
        let orgs: BTreeSet<&str> = partnerships
            .iter()
            .flat_map(|p| [p.org_id.as_str(), p.partner_org_id.as_str()])
            .collect();
        for org in orgs {
            let known: Option<i32> = sqlx::query_scalar("SELECT 1 FROM organization WHERE org_id = $1")
                .bind(org)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
            if known.is_none() {
                return Ok(Err(Refused::Unknown));
            }
        }
        for p in partnerships {
            upsert_partnership(&mut tx, p, None).await?;
        }
        crate::commit(tx).await?;
        Ok(Ok(partnerships.len() as u64))
    }

    async fn partnerships(&self) -> StoreResult<Vec<Partnership>> {
        let rows = sqlx::query(
            "SELECT partnership_id, org_id, partner_org_id, kind, scope, start_date::text, end_date::text FROM partnership \
             ORDER BY partnership_id COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let end: Option<String> = row.get(6);
                Ok(Partnership {
                    partnership_id: parse_id(row.get(0), "partnership_id")?,
                    org_id: parse_id(row.get(1), "partnership org_id")?,
                    partner_org_id: parse_id(row.get(2), "partner_org_id")?,
                    kind: PartnershipKind::parse(row.get(3)).map_err(corrupt("partnership kind"))?,
                    scope: row.get(4),
                    start_date: parse_date(row.get(5))?,
                    end_date: end.as_deref().map(parse_date).transpose()?,
                })
            })
            .collect()
    }

    async fn put_community_figures(&self, figures: &[CommunityFigure]) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM community_figure")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        for f in figures {
            let population = i64::try_from(f.population)
                .map_err(|_| StoreError::Backend("a community figure's population is out of range".into()))?;
            sqlx::query("INSERT INTO community_figure (area, language, population) VALUES ($1, $2, $3)")
                .bind(&f.area)
                .bind(&f.language)
                .bind(population)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        crate::commit(tx).await?;
        Ok(figures.len() as u64)
    }

    async fn community_figures(&self) -> StoreResult<Vec<CommunityFigure>> {
        let rows = sqlx::query(
            "SELECT area, language, population FROM community_figure \
             ORDER BY area COLLATE \"C\", language COLLATE \"C\", id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(rows
            .iter()
            .map(|row| CommunityFigure {
                area: row.get(0),
                language: row.get(1),
                population: row.get::<i64, _>(2).max(0) as u64,
            })
            .collect())
    }

    async fn need_signals(&self) -> StoreResult<Vec<NeedSignal>> {
        let rows = sqlx::query(
            "SELECT p.id, p.org_id, p.primary_language, i.element FROM pathway_item i \
             JOIN participant p ON p.id = i.participant_row WHERE i.kind = 'need' \
             UNION \
             SELECT p.id, p.org_id, p.primary_language, substr(a.instrument, 10) FROM assessment a \
             JOIN participant p ON p.id = a.participant_row \
             WHERE substr(a.instrument, 1, 9) = 'iip_self.' AND length(a.instrument) > 9 \
               AND a.instrument <> 'iip_self.overall' AND a.score < $1 \
               AND a.date = (SELECT MAX(b.date) FROM assessment b \
                             WHERE b.participant_row = a.participant_row AND b.instrument = a.instrument)",
        )
        .bind(iip_directory::gaps::LOW_SELF_SCORE)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        // One per participant record and element, whichever way it was found.
        let mut seen: BTreeSet<(i64, String)> = BTreeSet::new();
        let mut signals = Vec::new();
        for row in &rows {
            let element: String = row.get(3);
            if seen.insert((row.get(0), element.clone())) {
                signals.push(NeedSignal {
                    org_id: row.get(1),
                    language: row.get(2),
                    element,
                });
            }
        }
        signals.sort();
        Ok(signals)
    }

    async fn create_referral(&self, r: &NewReferral) -> StoreResult<Result<i64, Refused>> {
        let keys = self.keys.as_deref();
        let mut tx = self.write().await?;
        let participant: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM participant WHERE org_id = $1 AND participant_id = $2")
                .bind(r.from_org_id.as_str())
                .bind(r.participant_id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        let receiver: Option<i32> = sqlx::query_scalar("SELECT 1 FROM organization WHERE org_id = $1")
            .bind(r.to_org_id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        let service_known = match &r.service_id {
            None => true,
            Some(service) => {
                let owner: Option<String> = sqlx::query_scalar("SELECT org_id FROM service WHERE service_id = $1")
                    .bind(service.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                owner.as_deref() == Some(r.to_org_id.as_str())
            }
        };
        if participant.is_none() || receiver.is_none() || !service_known {
            return Ok(Err(Refused::Unknown));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO referral (from_org_id, participant_id, to_org_id, service_id, element, status, requested_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(r.from_org_id.as_str())
        .bind(r.participant_id.as_str())
        .bind(r.to_org_id.as_str())
        .bind(r.service_id.as_ref().map(Id::as_str))
        .bind(&r.element)
        .bind(ReferralStatus::Requested.as_str())
        .bind(r.at)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        if r.note.is_some() {
            let (clear, sealed) = seal_text(
                keys,
                &mut tx,
                (REFERRAL_TABLE, "note", id, r.from_org_id.as_str()),
                r.note.as_deref(),
            )
            .await?;
            sqlx::query("UPDATE referral SET note = $1, sealed_note = $2 WHERE id = $3")
                .bind(clear)
                .bind(sealed)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        let requested = ReferralEvent {
            status: ReferralStatus::Requested,
            at: r.at,
            by_user: Some(r.by_user),
            by_org_id: r.from_org_id.to_string(),
            reason: None,
        };
        insert_event(keys, &mut tx, id, r.from_org_id.as_str(), &requested).await?;
        crate::commit(tx).await?;
        Ok(Ok(id))
    }

    async fn change_referral(
        &self,
        id: i64,
        from: ReferralStatus,
        event: &ReferralEvent,
        outcome_milestone: Option<&str>,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        // Compare and set: only a referral still in `from` moves.
        let sender: Option<String> = sqlx::query_scalar(
            "UPDATE referral SET status = $1, outcome_milestone = coalesce($2, outcome_milestone) \
             WHERE id = $3 AND status = $4 RETURNING from_org_id",
        )
        .bind(event.status.as_str())
        .bind(outcome_milestone)
        .bind(id)
        .bind(from.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some(sender) = sender else {
            tx.rollback().await.map_err(backend)?;
            return Ok(false);
        };
        insert_event(self.keys.as_deref(), &mut tx, id, &sender, event).await?;
        crate::commit(tx).await?;
        Ok(true)
    }

    async fn credit_milestone(&self, milestone: &MilestoneRecord, delivered_by: &str) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let credited = sqlx::query(
            "UPDATE milestone SET delivered_by = $1 \
             WHERE delivered_by IS NULL AND milestone = $2 AND date = $3::date AND org_id = $4 \
             AND participant_row = (SELECT id FROM participant WHERE org_id = $4 AND participant_id = $5) \
             AND EXISTS (SELECT 1 FROM organization WHERE org_id = $6)",
        )
        .bind(delivered_by)
        .bind(&milestone.milestone)
        .bind(milestone.date.to_string())
        .bind(milestone.org_id.as_str())
        .bind(milestone.participant_id.as_str())
        .bind(delivered_by)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        crate::commit(tx).await?;
        Ok(credited > 0)
    }

    async fn referral(&self, id: i64) -> StoreResult<Option<Referral>> {
        let keys = self.keys.as_deref();
        // One read transaction: the referral and its events from one snapshot.
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let referrals = sqlx::query(concat!(referral_select!(), "WHERE r.id = $1"))
            .bind(id)
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        if referrals.is_empty() {
            return Ok(None);
        }
        let events = sqlx::query(concat!(event_select!(), "WHERE r.id = $1 ORDER BY e.id"))
            .bind(id)
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        let found = assemble(keys, &mut tx, &referrals, &events).await?;
        crate::commit(tx).await?;
        Ok(found.into_iter().next())
    }

    async fn referrals(&self, filter: ReferralFilter<'_>) -> StoreResult<Vec<Referral>> {
        let keys = self.keys.as_deref();
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let (referrals, events) = match filter {
            ReferralFilter::All => (
                sqlx::query(concat!(referral_select!(), "ORDER BY r.requested_at DESC, r.id DESC"))
                    .fetch_all(&mut *tx)
                    .await,
                sqlx::query(concat!(event_select!(), "ORDER BY e.id"))
                    .fetch_all(&mut *tx)
                    .await,
            ),
            ReferralFilter::Organization(org) => (
                sqlx::query(concat!(
                    referral_select!(),
                    "WHERE r.from_org_id = $1 OR r.to_org_id = $1 ORDER BY r.requested_at DESC, r.id DESC"
                ))
                .bind(org)
                .fetch_all(&mut *tx)
                .await,
                sqlx::query(concat!(
                    event_select!(),
                    "WHERE r.from_org_id = $1 OR r.to_org_id = $1 ORDER BY e.id"
                ))
                .bind(org)
                .fetch_all(&mut *tx)
                .await,
            ),
            ReferralFilter::Participant { org_id, participant_id } => (
                sqlx::query(concat!(
                    referral_select!(),
                    "WHERE r.from_org_id = $1 AND r.participant_id = $2 ORDER BY r.requested_at DESC, r.id DESC"
                ))
                .bind(org_id)
                .bind(participant_id)
                .fetch_all(&mut *tx)
                .await,
                sqlx::query(concat!(
                    event_select!(),
                    "WHERE r.from_org_id = $1 AND r.participant_id = $2 ORDER BY e.id"
                ))
                .bind(org_id)
                .bind(participant_id)
                .fetch_all(&mut *tx)
                .await,
            ),
        };
        let (referrals, events) = (referrals.map_err(backend)?, events.map_err(backend)?);
        let found = assemble(keys, &mut tx, &referrals, &events).await?;
        crate::commit(tx).await?;
        Ok(found)
    }
}

/// Adds or replaces an agreement (`import`: the import run writing it).
async fn upsert_partnership(conn: &mut PgConnection, p: &Partnership, import: Option<i64>) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO partnership (partnership_id, org_id, partner_org_id, kind, scope, start_date, end_date, last_import) \
         VALUES ($1, $2, $3, $4, $5, $6::date, $7::date, $8) \
         ON CONFLICT (partnership_id) DO UPDATE SET org_id = excluded.org_id, \
         partner_org_id = excluded.partner_org_id, kind = excluded.kind, scope = excluded.scope, \
         start_date = excluded.start_date, end_date = excluded.end_date, last_import = excluded.last_import",
    )
    .bind(p.partnership_id.as_str())
    .bind(p.org_id.as_str())
    .bind(p.partner_org_id.as_str())
    .bind(p.kind.as_str())
    .bind(p.scope.as_deref())
    .bind(p.start_date.to_string())
    .bind(p.end_date.map(|d| d.to_string()))
    .bind(import)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

impl PgImport {
    /// `ImportSession::upsert_partnership`: both organizations must be in the store or written
    /// earlier in this session (the session's transaction sees its own writes).
    pub(crate) async fn write_partnership(&mut self, p: &Partnership) -> StoreResult<Written> {
        let previous: Option<Option<i64>> =
            sqlx::query_scalar("SELECT last_import FROM partnership WHERE partnership_id = $1")
                .bind(p.partnership_id.as_str())
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(backend)?;
        if previous == Some(Some(self.import_id)) {
            return Ok(Written::DuplicateInPackage);
        }
        let known: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM organization WHERE org_id = $1) \
             AND EXISTS (SELECT 1 FROM organization WHERE org_id = $2)",
        )
        .bind(p.org_id.as_str())
        .bind(p.partner_org_id.as_str())
        .fetch_one(&mut *self.tx)
        .await
        .map_err(backend)?;
        if !known {
            return Ok(Written::UnknownParent);
        }
        upsert_partnership(&mut self.tx, p, Some(self.import_id)).await?;
        Ok(Written::Stored)
    }
}
