use super::{error_code, sdk_error};
use crate::env;
use crate::error::{StoreError, StoreResult};
use crate::schedule::{ScheduleSettings, ScheduleStore};
use async_trait::async_trait;
use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::types::{
    FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, ScheduleState, Target,
};

/// What the schedule passes to scheduled-fetch: an incremental run (template.yaml's
/// `FetchSchedule` target `Input`; a test of the template keeps the two equal).
pub const SCHEDULED_INPUT: &str = r#"{"mode":"incremental"}"#;
/// Scheduler's retries of a failed invocation: none. A run that failed is recorded and the
/// next tick runs again; a retry would only start a second run beside it.
pub const SCHEDULED_RETRY_ATTEMPTS: i32 = 0;

/// Which schedule to manage and what it invokes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleTarget {
    pub name: String,
    pub group: String,
    /// ARN of the scheduled-fetch function.
    pub target_arn: String,
    /// Role EventBridge Scheduler assumes to invoke it.
    pub role_arn: String,
}

impl ScheduleTarget {
    /// From `SCHEDULE_NAME`, `SCHEDULE_GROUP` (default `default`), `SCHEDULE_TARGET_ARN`,
    /// `SCHEDULE_ROLE_ARN`.
    pub fn from_env() -> StoreResult<Self> {
        Ok(ScheduleTarget {
            name: env::required(env::SCHEDULE_NAME)?,
            group: env::optional(env::SCHEDULE_GROUP).unwrap_or_else(|| "default".into()),
            target_arn: env::required(env::SCHEDULE_TARGET_ARN)?,
            role_arn: env::required(env::SCHEDULE_ROLE_ARN)?,
        })
    }
}

/// The sync schedule in EventBridge Scheduler.
#[derive(Clone)]
pub struct SchedulerSchedule {
    client: Client,
    target: ScheduleTarget,
}

impl SchedulerSchedule {
    pub fn new(client: Client, target: ScheduleTarget) -> Self {
        SchedulerSchedule { client, target }
    }

    pub fn from_env(config: &aws_config::SdkConfig) -> StoreResult<Self> {
        Ok(Self::new(Client::new(config), ScheduleTarget::from_env()?))
    }

    /// The whole target, as the template declares it: UpdateSchedule replaces the target, so
    /// an edit that sent only the ARN and role would drop the payload and the retry policy.
    fn target(&self) -> StoreResult<Target> {
        Target::builder()
            .arn(&self.target.target_arn)
            .role_arn(&self.target.role_arn)
            .input(SCHEDULED_INPUT)
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_retry_attempts(SCHEDULED_RETRY_ATTEMPTS)
                    .build(),
            )
            .build()
            .map_err(|e| StoreError::Invalid(e.to_string()))
    }
}

fn window() -> StoreResult<FlexibleTimeWindow> {
    FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .map_err(|e| StoreError::Invalid(e.to_string()))
}

fn state_of(enabled: bool) -> ScheduleState {
    if enabled {
        ScheduleState::Enabled
    } else {
        ScheduleState::Disabled
    }
}

#[async_trait]
impl ScheduleStore for SchedulerSchedule {
    async fn get_schedule(&self) -> StoreResult<Option<ScheduleSettings>> {
        let result = self
            .client
            .get_schedule()
            .name(&self.target.name)
            .group_name(&self.target.group)
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(sdk_error("get schedule", e)),
        };
        let expression = out
            .schedule_expression
            .ok_or_else(|| StoreError::corrupt("schedule has no expression"))?;
        Ok(Some(ScheduleSettings {
            cron: ScheduleSettings::fields_of(&expression)?,
            // Scheduler's own default when no zone was given.
            time_zone: out
                .schedule_expression_timezone
                .unwrap_or_else(|| "UTC".into()),
            enabled: out.state != Some(ScheduleState::Disabled),
        }))
    }

    async fn put_schedule(&self, settings: &ScheduleSettings) -> StoreResult<()> {
        settings.validate()?;
        // Update first: the schedule normally exists (the template creates it).
        let updated = self
            .client
            .update_schedule()
            .name(&self.target.name)
            .group_name(&self.target.group)
            .schedule_expression(settings.expression())
            .schedule_expression_timezone(&settings.time_zone)
            .state(state_of(settings.enabled))
            .flexible_time_window(window()?)
            .target(self.target()?)
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {
                self.client
                    .create_schedule()
                    .name(&self.target.name)
                    .group_name(&self.target.group)
                    .schedule_expression(settings.expression())
                    .schedule_expression_timezone(&settings.time_zone)
                    .state(state_of(settings.enabled))
                    .flexible_time_window(window()?)
                    .target(self.target()?)
                    .send()
                    .await
                    .map_err(|e| sdk_error("create schedule", e))?;
                Ok(())
            }
            Err(e) => Err(sdk_error("update schedule", e)),
        }
    }
}
