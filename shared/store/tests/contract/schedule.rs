//! The schedule store: the fetch schedule is written and read back.

use sync_store::StoreError;
use sync_store::schedule::{ScheduleSettings, ScheduleStore};

pub async fn schedule_write_read(schedule: &impl ScheduleStore) {
    assert_eq!(schedule.get_schedule().await.unwrap(), None);
    let workdays = ScheduleSettings {
        cron: "0/15 7-18 ? * MON-FRI *".into(),
        time_zone: "Europe/Berlin".into(),
        enabled: true,
    };
    schedule.put_schedule(&workdays).await.unwrap();
    assert_eq!(
        schedule.get_schedule().await.unwrap(),
        Some(workdays.clone())
    );

    let paused = ScheduleSettings {
        cron: "0 6 * * ? *".into(),
        time_zone: "America/New_York".into(),
        enabled: false,
    };
    schedule.put_schedule(&paused).await.unwrap();
    assert_eq!(schedule.get_schedule().await.unwrap(), Some(paused.clone()));

    for bad in [
        ScheduleSettings {
            cron: "0 6 * *".into(),
            ..paused.clone()
        },
        ScheduleSettings {
            cron: "0 6 * * MON *".into(),
            ..paused.clone()
        },
        ScheduleSettings {
            time_zone: "Mars/Olympus".into(),
            ..paused.clone()
        },
    ] {
        let result = schedule.put_schedule(&bad).await;
        assert!(
            matches!(result, Err(StoreError::Invalid(_))),
            "{bad:?} gave {result:?}"
        );
    }
    assert_eq!(
        schedule.get_schedule().await.unwrap(),
        Some(paused),
        "bad writes changed nothing"
    );
}
