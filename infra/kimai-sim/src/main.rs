//! `kimai-sim --dataset FILE [--port N] [--seed N]`: serve a simulated Kimai on 127.0.0.1.

use kimai_sim::{Dataset, SimConfig, serve};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str =
    "usage: kimai-sim --dataset FILE [--port N (default 8082)] [--seed N (default 0)]";

#[derive(Debug)]
struct Args {
    dataset: PathBuf,
    config: SimConfig,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut dataset = None;
    let mut config = SimConfig::default();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--dataset" => dataset = Some(PathBuf::from(value("--dataset")?)),
            "--port" => {
                config.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port must be a number from 0 to 65535".to_owned())?
            }
            "--seed" => {
                config.seed = value("--seed")?
                    .parse()
                    .map_err(|_| "--seed must be a number".to_owned())?
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Args {
        dataset: dataset.ok_or(format!("--dataset is required\n{USAGE}"))?,
        config,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr; stdout carries only the "listening on" line, for scripts.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let dataset = match Dataset::from_file(&args.dataset) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let sim = match serve(args.config, dataset).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!("kimai-sim listening on {}", sim.base_url());
    tokio::select! {
        r = sim.wait() => {
            if let Err(e) = r {
                eprintln!("server failed: {e}");
                return ExitCode::FAILURE;
            }
        }
        _ = tokio::signal::ctrl_c() => {}
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse_args(s.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn parses_dataset_port_and_seed() {
        let a = args("--dataset d.json --port 0 --seed 9").unwrap();
        assert_eq!(a.dataset, PathBuf::from("d.json"));
        assert_eq!(a.config, SimConfig { port: 0, seed: 9 });
        assert_eq!(args("--dataset d.json").unwrap().config.port, 8082);
    }

    #[test]
    fn refuses_missing_or_bad_arguments() {
        assert!(
            args("--port 1")
                .unwrap_err()
                .contains("--dataset is required")
        );
        assert!(args("--dataset").unwrap_err().contains("needs a value"));
        assert!(args("--dataset d --port x").unwrap_err().contains("--port"));
        assert!(args("--verbose").unwrap_err().contains("unknown argument"));
    }
}
