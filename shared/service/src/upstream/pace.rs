//! The shared call pace of each upstream ([`call_pacing`]), kept in the control store so every
//! function instance counts against the same limit.

use async_trait::async_trait;
use call_pacing::Pacer;
use chrono::Utc;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use sync_store::control::{CallSlot, ControlStore};
use sync_store::env;

/// Calls per second each upstream may receive from all instances together; `None`: no
/// shared limit (each client still bounds its own requests in flight).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallRates {
    pub zammad: Option<u32>,
    pub kimai: Option<u32>,
}

impl CallRates {
    /// From `ZAMMAD_CALLS_PER_SECOND` and `KIMAI_CALLS_PER_SECOND` (the template's
    /// `ZammadCallsPerSecond` and `KimaiCallsPerSecond`); unset or 0 is no limit.
    pub fn from_env() -> Result<Self, String> {
        let read = |name: &str| -> Result<Option<u32>, String> {
            match env::optional(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<u32>()
                    .map(|n| (n > 0).then_some(n))
                    .map_err(|_| format!("{name} must be a whole number of calls, not {v:?}")),
            }
        };
        Ok(CallRates {
            zammad: read(env::ZAMMAD_CALLS_PER_SECOND)?,
            kimai: read(env::KIMAI_CALLS_PER_SECOND)?,
        })
    }

    pub fn zammad_pacer(&self, control: &Arc<dyn ControlStore>) -> Option<Arc<dyn Pacer>> {
        StorePacer::shared(control, "zammad", self.zammad)
    }

    pub fn kimai_pacer(&self, control: &Arc<dyn ControlStore>) -> Option<Arc<dyn Pacer>> {
        StorePacer::shared(control, "kimai", self.kimai)
    }
}

/// A [`Pacer`] over the control store's call slots of one connection.
pub struct StorePacer {
    control: Arc<dyn ControlStore>,
    name: &'static str,
    per_second: u32,
}

impl StorePacer {
    fn shared(
        control: &Arc<dyn ControlStore>,
        name: &'static str,
        per_second: Option<u32>,
    ) -> Option<Arc<dyn Pacer>> {
        per_second.map(|per_second| {
            Arc::new(StorePacer {
                control: control.clone(),
                name,
                per_second,
            }) as Arc<dyn Pacer>
        })
    }
}

impl fmt::Debug for StorePacer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorePacer")
            .field("name", &self.name)
            .field("per_second", &self.per_second)
            .finish()
    }
}

#[async_trait]
impl Pacer for StorePacer {
    // The wall clock, not the stores' clock: the answer is turned into a real wait.
    async fn take_slot(&self) -> Result<Option<Duration>, String> {
        let now = Utc::now();
        match self
            .control
            .take_call_slot(self.name, self.per_second, now)
            .await
        {
            Ok(CallSlot::Taken) => Ok(None),
            Ok(CallSlot::FreeAt(at)) => Ok(Some((at - now).to_std().unwrap_or_default())),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn pause(&self, wait: Duration) -> Result<(), String> {
        let until = Utc::now() + chrono::Duration::from_std(wait).map_err(|e| e.to_string())?;
        self.control
            .pause_calls(self.name, until)
            .await
            .map_err(|e| e.to_string())
    }
}
