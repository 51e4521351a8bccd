//! Creates every table, queue (with its DLQ) and secret of `sync_store::schema` under a name
//! prefix, on whatever `AWS_ENDPOINT_URL` points at (normally the local emulator), and prints
//! the environment variables that point the adapters at them.
//!
//!   infra/local-aws/start.sh
//!   AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test \
//!     AWS_SECRET_ACCESS_KEY=test cargo run -p sync-store --example provision -- dev
//!
//! Deployments get the same resources from the SAM template instead.

use sync_store::aws::provision::{create_queue, create_table, put_secret};
use sync_store::{env, schema};

#[tokio::main]
async fn main() {
    let prefix = std::env::args().nth(1).unwrap_or_else(|| "dev".into());
    if std::env::var("AWS_ENDPOINT_URL").is_err() {
        eprintln!("AWS_ENDPOINT_URL is not set; refusing to create resources in a real account");
        std::process::exit(2);
    }
    let config = sync_store::aws::load_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let secrets = aws_sdk_secretsmanager::Client::new(&config);

    let mut exports = Vec::new();
    for table in schema::TABLES {
        let name = format!("{prefix}-{}", table.logical);
        if let Err(e) = create_table(&dynamodb, &table, &name).await {
            fail(&name, e);
        }
        exports.push((table.env_var, name));
    }
    for queue in schema::QUEUES {
        let name = format!("{prefix}-{}", queue.logical);
        match create_queue(&sqs, &queue, &name).await {
            Ok(urls) => {
                exports.push((queue.env_var, urls.url));
                exports.push((queue.dlq_env_var, urls.dlq_url));
            }
            Err(e) => fail(&name, e),
        }
    }
    for (var, logical) in [
        (env::ZAMMAD_TOKEN_SECRET, "zammad-token"),
        (env::KIMAI_TOKEN_SECRET, "kimai-token"),
        (env::WEBHOOK_SECRET, "webhook-secret"),
        (env::CONSOLE_SIGNING_KEY_SECRET, "console-signing-key"),
    ] {
        let name = format!("{prefix}-{logical}");
        // Placeholders: the console's connection settings write the real values.
        if let Err(e) = put_secret(&secrets, &name, "change-me").await {
            fail(&name, e);
        }
        exports.push((var, name));
    }
    for (var, value) in exports {
        println!("export {var}={value}");
    }
}

fn fail(name: &str, e: sync_store::StoreError) -> ! {
    eprintln!("creating {name} failed: {e}");
    std::process::exit(1);
}
