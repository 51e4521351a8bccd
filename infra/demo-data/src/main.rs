//! `demo-data --out DIR [--seed N] [--tickets N] [--weeks N] [--unit minutes|hours]
//! [--start YYYY-MM-DD] [--agents N]`: writes `zammad.json` and `kimai.json` for the simulators.

use chrono::NaiveDate;
use demo_data::spec::{DEFAULT_SEED, DEFAULT_TICKETS, DEFAULT_WEEKS, default_start};
use demo_data::{DemoSpec, SpecError, Unit, generate};
use std::path::PathBuf;
use std::process::ExitCode;
use thiserror::Error;

const USAGE: &str = "usage: demo-data --out DIR [--seed N] [--tickets N] [--weeks N] \
                     [--unit minutes|hours] [--start YYYY-MM-DD] [--agents N]";

/// Wrong arguments (exit 2) or a failed write (exit 1).
#[derive(Debug, Error)]
enum CliError {
    #[error("unknown argument {0:?}")]
    Unknown(String),
    #[error("{0} needs a value")]
    Missing(&'static str),
    #[error("--out DIR is required")]
    NoOut,
    #[error("{flag}: {value:?} is not {expected}")]
    Bad {
        flag: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

struct Args {
    out: PathBuf,
    spec: DemoSpec,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, CliError> {
    let mut out = None;
    let (mut seed, mut tickets, mut weeks) = (DEFAULT_SEED, DEFAULT_TICKETS, DEFAULT_WEEKS);
    let (mut unit, mut start) = (Unit::Minutes, default_start());
    let mut agents = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let flag: &'static str = match arg.as_str() {
            "--out" => "--out",
            "--seed" => "--seed",
            "--tickets" => "--tickets",
            "--weeks" => "--weeks",
            "--unit" => "--unit",
            "--start" => "--start",
            "--agents" => "--agents",
            _ => return Err(CliError::Unknown(arg)),
        };
        let value = args.next().ok_or(CliError::Missing(flag))?;
        let bad = |expected| CliError::Bad {
            flag,
            value: value.clone(),
            expected,
        };
        match flag {
            "--out" => out = Some(PathBuf::from(&value)),
            "--seed" => seed = value.parse().map_err(|_| bad("a whole number"))?,
            "--tickets" => tickets = value.parse().map_err(|_| bad("a whole number"))?,
            "--weeks" => weeks = value.parse().map_err(|_| bad("a whole number"))?,
            "--unit" => unit = value.parse()?,
            "--agents" => agents = Some(value.parse().map_err(|_| bad("a whole number"))?),
            _ => {
                start = NaiveDate::parse_from_str(&value, "%Y-%m-%d")
                    .map_err(|_| bad("a date YYYY-MM-DD"))?
            }
        }
    }
    let out = out.ok_or(CliError::NoOut)?;
    let mut spec = DemoSpec::new(seed, tickets, weeks, unit, start)?;
    if let Some(agents) = agents {
        spec = spec.with_agents(agents)?;
    }
    Ok(Args { out, spec })
}

fn write(args: &Args) -> Result<(), CliError> {
    let (zammad, kimai) = generate(&args.spec);
    let failed = |path: &std::path::Path| {
        let path = path.display().to_string();
        move |source| CliError::Write { path, source }
    };
    std::fs::create_dir_all(&args.out).map_err(failed(&args.out))?;
    for (name, value) in [
        ("zammad.json", serde_json::to_string_pretty(&zammad)),
        ("kimai.json", serde_json::to_string_pretty(&kimai)),
    ] {
        let text = value.expect("the datasets always serialise") + "\n";
        let path = args.out.join(name);
        std::fs::write(&path, text).map_err(failed(&path))?;
        println!("{}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("demo-data: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match write(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo-data: {e}");
            ExitCode::from(1)
        }
    }
}
