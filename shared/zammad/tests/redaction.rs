//! The token never shows in Debug output, error messages or logs (at any level).

use std::time::Duration;
use sync_core::ids::TicketId;
use test_support::datasets;
use test_support::logs::LogCapture;
use url::Url;
use zammad_client::{ApiToken, ClientConfig, ZammadClient};
use zammad_sim::dataset::TokenRecord;
use zammad_sim::{FaultConfig, FaultRule, ZammadVersion};

const SECRET: &str = "s3cr3t-t0ken-4711";

#[tokio::test]
async fn the_token_appears_in_no_debug_output_error_or_log_line() {
    let (logs, _guard) = LogCapture::this_thread();

    let mut dataset = datasets::zammad::demo();
    dataset.tokens.push(TokenRecord {
        token: SECRET.to_owned(),
        user_id: 2,
    });
    let sim = test_support::sims::zammad(ZammadVersion::V6_5, dataset).await;
    let base = Url::parse(&sim.base_url()).unwrap();

    let mut config = ClientConfig::new(base.clone(), SECRET);
    config.retry.min_delay = Duration::from_millis(5);
    config.retry.max_retries = 1;
    let config_debug = format!("{config:?}");
    let client = ZammadClient::new(config).unwrap();
    let client_debug = format!("{client:?}");

    // A success, a retried failure (the retry logs a warning) and a permanent failure.
    client.ticket(TicketId(101)).await.unwrap();
    sim.sim().set_faults(FaultConfig {
        seed: 1,
        rules: vec![FaultRule {
            route: "*".into(),
            latency_ms: 0,
            error_rate: 1.0,
            error_statuses: vec![503],
            rate_limit_rate: 0.0,
            retry_after_secs: 0,
            timeout_rate: 0.0,
            hold_ms: 0,
            malformed_rate: 0.0,
            times: None,
        }],
    });
    let server_error = client.ticket(TicketId(101)).await.unwrap_err();
    sim.sim().set_faults(FaultConfig::default());

    // A wrong token that contains the secret as a prefix must not be echoed either.
    let wrong = format!("{SECRET}-but-wrong");
    let unauthorised = ZammadClient::new(ClientConfig::new(base, wrong.as_str()))
        .unwrap()
        .ticket(TicketId(101))
        .await
        .unwrap_err();

    let texts = [
        config_debug.clone(),
        client_debug,
        format!("{:?}", ApiToken::new(SECRET)),
        server_error.to_string(),
        format!("{server_error:?}"),
        unauthorised.to_string(),
        format!("{unauthorised:?}"),
    ];
    for text in &texts {
        assert!(!text.contains(SECRET), "token leaked in: {text}");
    }
    let logged = logs.text();
    assert!(
        logged.contains("retrying Zammad call"),
        "the capture works: {logged}"
    );
    assert!(!logged.contains(SECRET), "token leaked into the logs");
    assert!(config_debug.contains("<redacted>"));
    sim.shutdown().await;
}
