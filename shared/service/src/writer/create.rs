//! Step 3 and 4 for a create: a key linked since planning is not created again, its timesheet
//! is brought to this plan's values as an update would (unless it is gone: then this create is
//! a recreate); a create that an earlier POST of the key
//! may have saved (a retry of this operation, or any create of a key that had one sent: a newer
//! plan's operation after a crash or a lost answer) searches by its marker first and adopts
//! what it finds; otherwise the timesheet is POSTed, with its times in the API user's zone.

use super::cache::{ApiUser, WriterCache};
use super::park::{parked, refusal};
use super::tags::KnownTag;
use super::{Step, WriteError, WriteOutcome, Writer};
use kimai_client::{KimaiError, NewTimesheet, TimesheetQuery};
use sync_core::desired::DesiredTimesheet;
use sync_core::ids::{TicketId, TimesheetId};
use sync_core::kimai::Timesheet;
use sync_core::marker::Marker;
use sync_core::plan::{Base, ConflictReason};
use sync_core::planner::desired_matches_kimai;
use sync_core::zone::{parse_zone, reads_back, utc_to_local};
use sync_store::entries::{EntryRecord, ExpectedLink};
use sync_store::queue::KimaiWriteMessage;

/// The key's link when its create runs.
enum KeyLink {
    Unlinked,
    /// Linked to a timesheet Kimai still has (`current`, as just read).
    Live {
        base: Box<Base>,
        current: Box<Timesheet>,
    },
    /// Linked to a timesheet that is gone from Kimai.
    Dead(TimesheetId),
}

impl Writer {
    pub(super) async fn create(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
        desired: &DesiredTimesheet,
        attempt: u32,
        record: Option<EntryRecord>,
    ) -> Result<Step, WriteError> {
        // Linked since planning (a marker adoption, or an older plan's create of the key that
        // went first): creating again would make a duplicate. This operation is the key's
        // newest plan (an out-of-date one never gets here), so its values are written over the
        // linked timesheet as an update would, against what we last wrote there: nothing else
        // may plan the key again (the chaos soak's verify sweep found a change lost this way).
        // Unless the linked timesheet is gone from Kimai: then this create is a recreate (a
        // person decided "recreate" on a deleted_in_kimai conflict) and replaces the dead link.
        let (link, create_sent) = self.key_link(record).await?;
        let expected = match link {
            KeyLink::Unlinked => ExpectedLink::Unlinked,
            KeyLink::Dead(kimai_id) => ExpectedLink::LinkedTo(kimai_id),
            KeyLink::Live { base, current } => {
                if desired_matches_kimai(desired, &current) {
                    return Ok(Step::Done(WriteOutcome::Superseded {
                        kimai_id: base.kimai_id,
                    }));
                }
                tracing::info!(kimai_id = %base.kimai_id, "an older plan's create linked the key; updating it to this plan");
                return self
                    .update_read(
                        cache,
                        message,
                        base.kimai_id,
                        desired,
                        &base.echoed,
                        *current,
                    )
                    .await;
            }
        };
        // The operation id says nothing about an earlier POST of another operation of the key:
        // the key's record does.
        if attempt > 1 || create_sent {
            if let Some(found) = self.find_by_marker(message.ticket_id, desired).await? {
                tracing::info!(kimai_id = %found.id, "an earlier attempt created it; adopting");
                let id = found.id;
                return self
                    .record_create(message, desired, found, expected, |_| {
                        WriteOutcome::Adopted { kimai_id: id }
                    })
                    .await;
            }
        }
        self.post(cache, message, desired, expected).await
    }

    /// The key's link in its `record`, and whether a create of the key was ever sent to Kimai.
    async fn key_link(&self, record: Option<EntryRecord>) -> Result<(KeyLink, bool), WriteError> {
        let create_sent = record.as_ref().is_some_and(|r| r.create_sent_at.is_some());
        let Some(base) = record.and_then(|r| r.base) else {
            return Ok((KeyLink::Unlinked, create_sent));
        };
        let link = match self.kimai.timesheet(base.kimai_id).await {
            Err(KimaiError::NotFound) => {
                tracing::info!(kimai_id = %base.kimai_id, "the key's timesheet is gone; recreating it");
                KeyLink::Dead(base.kimai_id)
            }
            Ok(current) => {
                tracing::info!(kimai_id = %base.kimai_id, "key linked since planning; not creating");
                KeyLink::Live {
                    base: Box::new(base),
                    current: Box::new(current),
                }
            }
            Err(e) => return Err(WriteError::Kimai(e)),
        };
        Ok((link, create_sent))
    }

    /// Creates the timesheet in Kimai and records it.
    async fn post(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
        desired: &DesiredTimesheet,
        expected: ExpectedLink,
    ) -> Result<Step, WriteError> {
        let me = self.api_user(cache).await?;
        let api_zone = me.zone;
        if !reads_back(api_zone, desired.begin_utc) || !reads_back(api_zone, desired.end_utc) {
            return Ok(Step::Park(parked(
                ConflictReason::AmbiguousLocalTime,
                format!(
                    "begin or end falls in a repeated hour of the API user's zone {api_zone}; Kimai would book it an hour off"
                ),
                None,
            )));
        }
        let known_tags = self.ensure_tags(cache, &desired.tags).await?;
        let new = NewTimesheet {
            // Kimai reads POSTed times in the API user's zone, even when booking for another.
            begin: utc_to_local(api_zone, desired.begin_utc),
            end: utc_to_local(api_zone, desired.end_utc),
            project: desired.project,
            activity: desired.activity,
            description: Some(desired.description.clone()),
            tags: Some(desired.tags.clone()),
            user: (desired.user != me.id).then_some(desired.user),
            billable: desired.billable,
        };
        // Noted before the POST: if its answer is lost, whichever operation of the key comes
        // next searches by marker first.
        self.stores
            .entries
            .note_create_sent(message.ticket_id, &desired.key, self.stores.now())
            .await?;
        match self.kimai.create_timesheet(&new).await {
            Ok(created) => {
                self.created(cache, message, desired, &known_tags, created, expected)
                    .await
            }
            Err(e) => match refusal(&e, ConflictReason::KimaiRejected) {
                Some(p) => Ok(Step::Park(p)),
                None if e.is_retryable() => Err(WriteError::Kimai(e)),
                None if matches!(e, KimaiError::MalformedBody { .. }) => {
                    Err(WriteError::CreateOutcomeUnknown(e))
                }
                None => Err(WriteError::Kimai(e)),
            },
        }
    }

    /// Kimai answered the create: repair dropped tags, audit, record.
    async fn created(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
        desired: &DesiredTimesheet,
        known_tags: &[KnownTag],
        created: Timesheet,
        expected: ExpectedLink,
    ) -> Result<Step, WriteError> {
        let created = self
            .restore_dropped_tags(cache, created.id, desired, known_tags, created)
            .await;
        self.stores
            .audit(
                "timesheet.create",
                serde_json::json!({
                    "operation_id": message.operation_id.0,
                    "ticket_id": message.ticket_id.0,
                    "key": desired.key.0,
                    "kimai_id": created.id.0,
                    "user": desired.user.0,
                    "begin": created.begin.to_rfc3339(),
                    "duration_secs": created.duration_secs,
                }),
            )
            .await?;
        let id = created.id;
        self.record_create(message, desired, created, expected, |_| {
            WriteOutcome::Created { kimai_id: id }
        })
        .await
    }

    /// The API user, looked up once per expiry of the cache.
    async fn api_user(&self, cache: &WriterCache) -> Result<ApiUser, WriteError> {
        let slot = cache.api_user_slot();
        let fetched = slot
            .get_or_try_init(|| async {
                let me = self.kimai.me().await.map_err(WriteError::Kimai)?;
                let zone = parse_zone(&me.timezone).map_err(|_| {
                    WriteError::Config(format!(
                        "the Kimai API user's time zone {:?} is not an IANA zone",
                        me.timezone
                    ))
                })?;
                Ok::<_, WriteError>(cache.fetched(ApiUser { id: me.id, zone }))
            })
            .await?;
        Ok(fetched.value)
    }

    /// Our timesheet for this key, if an earlier attempt made one: the lowest id whose marker
    /// names the key and which no other entry has linked.
    async fn find_by_marker(
        &self,
        ticket: TicketId,
        desired: &DesiredTimesheet,
    ) -> Result<Option<Timesheet>, WriteError> {
        let Some(marker) = Marker::for_key(&desired.key) else {
            return Ok(None);
        };
        let query = TimesheetQuery {
            term: Some(marker.search_term()),
            ..TimesheetQuery::default()
        };
        let mut hits: Vec<Timesheet> = self
            .kimai
            .list_timesheets(&query)
            .await
            .map_err(WriteError::Kimai)?
            .into_iter()
            .filter(|t| {
                t.description
                    .as_deref()
                    .and_then(Marker::parse)
                    .is_some_and(|m| m.key() == desired.key)
            })
            .collect();
        hits.sort_by_key(|t| t.id);
        for t in hits {
            match self.stores.entries.find_by_kimai_id(t.id).await? {
                Some(r) if r.ticket_id != ticket || r.key != desired.key => continue,
                _ => return Ok(Some(t)),
            }
        }
        Ok(None)
    }
}
