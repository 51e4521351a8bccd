//! AWS adapters: DynamoDB, SQS, Secrets Manager, EventBridge Scheduler, the EventBridge bus, Lambda (the console's
//! hand-off to scheduled-fetch), on the official SDK.
//!
//! The endpoint comes only from the standard configuration chain (`AWS_ENDPOINT_URL` for the
//! emulator, nothing on AWS), so no code path differs between the two.

mod audit;
mod conflicts;
mod control;
mod entries;
mod events;
mod item;
mod launch;
pub mod provision;
mod queue;
mod schedule;
mod secrets;

pub use audit::DynamoAuditLog;
pub use conflicts::DynamoConflicts;
pub use control::DynamoControl;
pub use entries::DynamoEntries;
pub use events::EventBridgeBus;
pub use launch::LambdaLauncher;
pub use queue::SqsQueue;
pub use schedule::{SCHEDULED_INPUT, SCHEDULED_RETRY_ATTEMPTS, ScheduleTarget, SchedulerSchedule};
pub use secrets::SecretsManagerSource;

use crate::error::StoreError;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Loads region, credentials and endpoint from the environment, once per process.
pub async fn load_config() -> aws_config::SdkConfig {
    aws_config::load_from_env().await
}

/// The error code of a service error, if the call got that far.
pub(crate) fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

pub(crate) fn is_condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    error_code(err) == Some("ConditionalCheckFailedException")
}

/// Maps an SDK failure to what the caller should do about it.
pub(crate) fn sdk_error<E, R>(what: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = error_code(&err).map(str::to_owned);
    let text = format!("{what}: {}", DisplayErrorContext(&err));
    match err {
        SdkError::ServiceError(_) => match code.as_deref().unwrap_or("") {
            "ResourceNotFoundException"
            | "QueueDoesNotExist"
            | "AWS.SimpleQueueService.NonExistentQueue" => StoreError::NotFound(text),
            "AccessDeniedException"
            | "AccessDenied"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "ExpiredTokenException"
            | "InvalidSignatureException" => StoreError::AccessDenied(text),
            "ValidationException"
            | "InvalidParameterValue"
            | "InvalidParameterValueException"
            | "InvalidParameterException"
            | "InvalidRequestException"
            | "InvalidMessageContents"
            | "ItemCollectionSizeLimitExceededException" => StoreError::Invalid(text),
            // Throttling, 5xx and anything unknown: the message goes back to the queue and is
            // dead-lettered after the receive limit, so guessing "retry" cannot loop forever.
            _ => StoreError::Unavailable(text),
        },
        SdkError::ConstructionFailure(_) => StoreError::Invalid(text),
        _ => StoreError::Unavailable(text),
    }
}
