//! The api function's init phase fails with a typed error when the deployment is incomplete.
//! (The working path — tables, secrets and the first admin on the emulator — is the local
//! stack's smoke test: `infra/local-stack/smoke.sh`.)

use aws_config::{BehaviorVersion, Region, SdkConfig};
use sync_lambda::adapters::Aws;
use sync_lambda::api::InitError;
use sync_store::StoreError;

#[tokio::test]
async fn init_without_the_table_variables_fails_naming_the_variable() {
    // SAFETY: nextest runs every test in its own process and this test starts no other thread
    // that reads the environment before this line.
    unsafe { std::env::remove_var("CONTROL_TABLE") };
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    let err = sync_lambda::api::init(&Aws::new(config), |_| None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            InitError::Config(StoreError::MissingConfig("CONTROL_TABLE"))
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("CONTROL_TABLE"), "{err}");
}
