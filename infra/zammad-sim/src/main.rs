//! `zammad-sim --dataset FILE [--port N] [--version 6.2|6.5] [--dated-recently]`
//!
//! `--dated-recently` moves the dataset by whole weeks so that its latest booking lies in the
//! past week (the local stack's demo, so that its first sync books recent time).

use std::path::PathBuf;
use std::process::ExitCode;
use zammad_sim::{Dataset, SimConfig, ZammadVersion, serve};

const USAGE: &str =
    "usage: zammad-sim --dataset FILE [--port N] [--version 6.2|6.5] [--dated-recently]";

#[derive(Debug)]
struct Args {
    dataset: PathBuf,
    config: SimConfig,
    dated_recently: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut dataset = None;
    let mut config = SimConfig::default();
    let mut dated_recently = false;
    while let Some(flag) = args.next() {
        if flag == "--dated-recently" {
            dated_recently = true;
            continue;
        }
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--dataset" => dataset = Some(PathBuf::from(value()?)),
            "--port" => {
                let v = value()?;
                config.port = v
                    .parse()
                    .map_err(|_| format!("--port: {v:?} is not a port"))?;
            }
            "--version" => config.version = value()?.parse::<ZammadVersion>()?,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let dataset = dataset.ok_or_else(|| format!("--dataset is required\n{USAGE}"))?;
    Ok(Args {
        dataset,
        config,
        dated_recently,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let dataset = match Dataset::from_file(&args.dataset) {
        Ok(d) if args.dated_recently => d.dated_recently(chrono::Utc::now()),
        Ok(d) => d,
        Err(e) => {
            eprintln!("zammad-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let running = match serve(args.config.clone(), dataset).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("zammad-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "zammad-sim {} listening on {}",
        args.config.version,
        running.base_url()
    );
    tokio::select! {
        _ = tokio::signal::ctrl_c() => running.shutdown().await,
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn all_flags_parse() {
        let args = parse(&["--dataset", "d.json", "--port", "0", "--version", "6.2"]).unwrap();
        assert_eq!(args.dataset, PathBuf::from("d.json"));
        assert_eq!(args.config.port, 0);
        assert_eq!(args.config.version, ZammadVersion::V6_2);
        let defaults = parse(&["--dataset", "d.json"]).unwrap();
        assert_eq!(defaults.config.port, 8081);
        assert_eq!(defaults.config.version, ZammadVersion::V6_5);
        assert!(!defaults.dated_recently);
        assert!(
            parse(&["--dated-recently", "--dataset", "d.json"])
                .unwrap()
                .dated_recently
        );
    }

    #[test]
    fn bad_arguments_are_explained() {
        assert!(parse(&[]).unwrap_err().contains("--dataset is required"));
        assert!(parse(&["--dataset"]).unwrap_err().contains("needs a value"));
        assert!(
            parse(&["--dataset", "d", "--port", "http"])
                .unwrap_err()
                .contains("not a port")
        );
        assert!(parse(&["--dataset", "d", "--version", "six"]).is_err());
        assert!(
            parse(&["--verbose"])
                .unwrap_err()
                .contains("unknown argument")
        );
    }
}
