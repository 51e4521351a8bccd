//! Step 4's tags. Kimai drops unknown tags without an error, so each tag is made sure of before
//! a write (looked up, created if missing, remembered in the [`WriterCache`]), and an echo that
//! lacks a tag believed to exist is repaired after it.

use super::cache::{TagState, WriterCache};
use super::{WriteError, Writer};
use crate::expiring::Slot;
use kimai_client::{KimaiError, Retries, TimesheetPatch};
use sync_core::desired::DesiredTimesheet;
use sync_core::ids::TimesheetId;
use sync_core::kimai::Timesheet;

/// A tag [`Writer::ensure_tags`] found or created, and the lookup that said so (to forget
/// exactly that lookup if Kimai has dropped the tag since).
pub(super) struct KnownTag {
    name: String,
    slot: Slot<TagState>,
}

impl Writer {
    /// Kimai ≥ 2.14 drops unknown tags silently, so each tag is looked up (and created if
    /// missing) first: once per tag and expiry of the cache, however many records of a batch
    /// need it at once. Without `create_tag` the tag cannot be created: logged, and the write
    /// goes on. Answers the tags believed to exist, with the lookup that said so.
    pub(super) async fn ensure_tags(
        &self,
        cache: &WriterCache,
        tags: &[String],
    ) -> Result<Vec<KnownTag>, WriteError> {
        let mut known = Vec::new();
        for tag in tags {
            let slot = cache.tag_slot(tag);
            let fetched = slot
                .get_or_try_init(|| async {
                    let state = match self.kimai.ensure_tag(tag).await {
                        Ok(_) => TagState::Exists,
                        Err(KimaiError::Forbidden) => {
                            tracing::warn!(
                                tag,
                                "the API user may not create tags; Kimai will drop it"
                            );
                            TagState::Unavailable
                        }
                        Err(e) if e.is_retryable() => return Err(WriteError::Kimai(e)),
                        Err(e) => {
                            tracing::warn!(tag, error = %e, "could not ensure the tag");
                            TagState::Unavailable
                        }
                    };
                    Ok(cache.fetched(state))
                })
                .await?;
            if fetched.value == TagState::Exists {
                known.push(KnownTag {
                    name: tag.clone(),
                    slot: slot.clone(),
                });
            }
        }
        Ok(known)
    }

    /// A tag believed to exist that is missing from Kimai's echo was deleted in Kimai since
    /// it was looked up (Kimai drops unknown tags without an error). Once per write: forget
    /// it, look it up (create it) again and set the tags with a PATCH. This never fails the
    /// write, which has reached Kimai already: when the repair fails, it is logged and the
    /// echo is recorded as it is.
    pub(super) async fn restore_dropped_tags(
        &self,
        cache: &WriterCache,
        kimai_id: TimesheetId,
        desired: &DesiredTimesheet,
        known: &[KnownTag],
        echoed: Timesheet,
    ) -> Timesheet {
        let echoed_has = |name: &str| echoed.tags.iter().any(|t| t.eq_ignore_ascii_case(name));
        let dropped: Vec<&KnownTag> = known.iter().filter(|k| !echoed_has(&k.name)).collect();
        if dropped.is_empty() {
            return echoed;
        }
        for k in &dropped {
            tracing::info!(tag = %k.name, %kimai_id, "Kimai dropped a known tag; looking it up again");
            cache.forget_tag(&k.name, &k.slot);
        }
        let names: Vec<String> = dropped.iter().map(|k| k.name.clone()).collect();
        match self.ensure_tags(cache, &names).await {
            Ok(again) if again.len() == names.len() => {}
            Ok(_) => {
                tracing::warn!(%kimai_id, tags = ?names, "a dropped tag cannot be created again; the timesheet lacks it");
                return echoed;
            }
            Err(e) => {
                tracing::warn!(%kimai_id, error = %e, "could not look a dropped tag up again; the timesheet lacks it");
                return echoed;
            }
        }
        let patch = TimesheetPatch {
            tags: Some(desired.tags.clone()),
            ..TimesheetPatch::default()
        };
        match self
            .kimai
            .update_timesheet(kimai_id, &patch, Retries::Allowed)
            .await
        {
            Ok(repaired) => repaired,
            Err(e) => {
                tracing::warn!(%kimai_id, error = %e, "could not set the dropped tags again; the timesheet lacks them");
                echoed
            }
        }
    }
}
