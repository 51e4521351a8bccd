//! The environment a bootstrap gets on Lambda: the function's own variables as deployed (from
//! the template, read back from the emulator) plus the variables Lambda itself sets.

use crate::error::BenchError;
use std::collections::BTreeMap;
use std::path::Path;

/// A deployed function's configuration, as far as the bootstrap sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployed {
    pub name: String,
    pub memory_mb: i32,
    pub variables: BTreeMap<String, String>,
}

/// Reads a function's configuration from the Lambda API (the emulator's, locally).
pub async fn read_deployed(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
) -> Result<Deployed, BenchError> {
    let config = lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
        .map_err(|e| BenchError::aws("lambda:GetFunctionConfiguration", e))?;
    let variables = config
        .environment()
        .and_then(|env| env.variables())
        .map(|vars| {
            vars.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<BTreeMap<_, _>>()
        })
        .unwrap_or_default();
    Ok(Deployed {
        name: name.to_owned(),
        memory_mb: config.memory_size().unwrap_or(128),
        variables,
    })
}

/// Where the AWS SDK inside the bootstrap should go, and as whom.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsTarget {
    /// The emulator on loopback (`AWS_ENDPOINT_URL`).
    pub endpoint: String,
    pub region: String,
}

/// The full environment: the function's variables, then Lambda's reserved ones (which win, as
/// on Lambda), then the emulator's endpoint and dummy credentials. `AWS_LAMBDA_RUNTIME_API` is
/// added per run by the caller.
pub fn lambda_environment(
    deployed: &Deployed,
    aws: &AwsTarget,
    task_root: &Path,
) -> BTreeMap<String, String> {
    let mut env = deployed.variables.clone();
    let name = &deployed.name;
    let reserved = [
        ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            deployed.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]stackbench".to_owned(),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_REGION", aws.region.clone()),
        ("AWS_DEFAULT_REGION", aws.region.clone()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("LAMBDA_TASK_ROOT", task_root.display().to_string()),
        ("LAMBDA_RUNTIME_DIR", task_root.display().to_string()),
        ("TZ", ":UTC".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_owned()),
        // Locally only: the emulator instead of AWS, with its dummy credentials.
        ("AWS_ENDPOINT_URL", aws.endpoint.clone()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
    ];
    for (k, v) in reserved {
        env.insert(k.to_owned(), v);
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployed() -> Deployed {
        Deployed {
            name: "stack-ReconcileFunction-1".into(),
            memory_mb: 256,
            variables: BTreeMap::from([
                ("ENTRIES_TABLE".to_owned(), "entries".to_owned()),
                ("RUST_LOG".to_owned(), "info".to_owned()),
                // A function may not override what Lambda sets.
                ("AWS_REGION".to_owned(), "eu-west-9".to_owned()),
            ]),
        }
    }

    #[test]
    fn function_variables_plus_lambdas_own_with_lambda_winning() {
        let aws = AwsTarget {
            endpoint: "http://127.0.0.1:4598".into(),
            region: "us-east-1".into(),
        };
        let env = lambda_environment(&deployed(), &aws, Path::new("/opt/fn"));
        assert_eq!(env["ENTRIES_TABLE"], "entries");
        assert_eq!(env["RUST_LOG"], "info");
        assert_eq!(env["AWS_REGION"], "us-east-1");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "stack-ReconcileFunction-1");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
        assert_eq!(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:4598");
        assert_eq!(env["LAMBDA_TASK_ROOT"], "/opt/fn");
        assert!(!env.contains_key("AWS_LAMBDA_RUNTIME_API"));
    }
}
