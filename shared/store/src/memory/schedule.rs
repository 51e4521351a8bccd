use crate::error::StoreResult;
use crate::schedule::{ScheduleSettings, ScheduleStore};
use async_trait::async_trait;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemorySchedule {
    settings: Mutex<Option<ScheduleSettings>>,
}

impl MemorySchedule {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ScheduleStore for MemorySchedule {
    async fn get_schedule(&self) -> StoreResult<Option<ScheduleSettings>> {
        Ok(self
            .settings
            .lock()
            .expect("schedule lock poisoned")
            .clone())
    }

    async fn put_schedule(&self, settings: &ScheduleSettings) -> StoreResult<()> {
        settings.validate()?;
        *self.settings.lock().expect("schedule lock poisoned") = Some(settings.clone());
        Ok(())
    }
}
