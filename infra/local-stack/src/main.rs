//! `seed-demo --zammad-url URL --kimai-url URL --policy FILE [--zone ZONE]`: writes the demo
//! configuration into the control store named by `CONTROL_TABLE` (the AWS SDK's usual
//! environment: `AWS_ENDPOINT_URL` for the emulator).

use local_stack::DemoSeed;
use std::process::ExitCode;
use sync_store::aws::{DynamoControl, load_config};

fn usage() -> ExitCode {
    eprintln!("usage: seed-demo --zammad-url URL --kimai-url URL --policy FILE [--zone ZONE]");
    ExitCode::from(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut zammad, mut kimai, mut policy, mut zone) =
        (None, None, None, "Europe/Berlin".to_owned());
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            return usage();
        };
        match flag.as_str() {
            "--zammad-url" => zammad = Some(value),
            "--kimai-url" => kimai = Some(value),
            "--policy" => policy = Some(value),
            "--zone" => zone = value,
            _ => return usage(),
        }
    }
    let (Some(zammad_url), Some(kimai_url), Some(policy_file)) = (zammad, kimai, policy) else {
        return usage();
    };
    let policy = match std::fs::read_to_string(&policy_file)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
    {
        Ok(policy) => policy,
        Err(e) => {
            eprintln!("cannot read {policy_file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let seed = DemoSeed {
        zammad_url,
        kimai_url,
        default_zone: zone,
        policy,
    };
    let config = load_config().await;
    let control = match DynamoControl::from_env(&config) {
        Ok(control) => control,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match seed.write(&control).await {
        Ok(()) => {
            println!("seeded connection/zammad, connection/kimai, policy/fetch, policy/sync");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seeding failed: {e}");
            ExitCode::FAILURE
        }
    }
}
