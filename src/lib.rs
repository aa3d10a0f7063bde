//! A CloudFormation custom resource for Amazon Connect users.
//!
//! - [`cfn`]: the custom-resource protocol (intake, coercion, deadlines, panic guard, the response PUT); it
//!   knows nothing about Connect.
//! - [`connect`]: the calls to Connect (and Secrets Manager): one client for the user resource, the set and the
//!   CLI, with retries, pacing, the paged reads and the ownership records (tags) a user carries.
//! - [`user`]: what a user is (typed properties, model, planner, translation) and the single-user resource.
//! - [`roster`]: `Custom::ConnectUserSet`, a whole roster reusing the user resource's parts.
//! - [`dispatch`]: which of the two serves a request (by its resource type).
//! - [`init`]: what `main` sets up once per process and reuses across invocations.
//! - [`digest`]: stable short digests for keys and tags.
//! - [`store`]: state that outlasts an invocation (a DynamoDB table): answered events, the users a set holds.

pub mod cfn;
pub mod connect;
pub mod digest;
pub mod dispatch;
pub mod init;
pub mod roster;
pub mod store;
pub mod user;

/// template.yaml against what is said of it elsewhere, so that neither goes stale alone.
#[cfg(test)]
mod deployment {
    use std::collections::BTreeSet;

    const TEMPLATE: &str = include_str!("../template.yaml");

    /// `service:Action` items of the template's policy statements (`- connect:CreateUser`).
    fn granted() -> BTreeSet<String> {
        TEMPLATE
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- "))
            .filter(|a| {
                a.split_once(':').is_some_and(|(s, op)| {
                    !s.is_empty()
                        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                        && op.chars().all(|c| c.is_ascii_alphabetic())
                        && !op.is_empty()
                })
            })
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_iam_table_of_the_reference_is_what_template_yaml_grants() {
        let doc = include_str!("../docs/reference.md");
        let table: BTreeSet<String> = doc
            .lines()
            .filter(|l| l.trim_start().starts_with("| `"))
            .flat_map(|l| l.split('|').nth(1).unwrap_or("").split('`').skip(1).step_by(2).map(str::to_string).collect::<Vec<_>>())
            .filter(|a| a.contains(':'))
            .collect();
        let granted = granted();
        assert!(
            granted.contains("connect:CreateUser") && granted.contains("kms:Decrypt") && granted.contains("sqs:SendMessage"),
            "{granted:?}"
        );
        assert_eq!(table, granted, "docs/reference.md's IAM table and template.yaml's statements");
        assert!(!TEMPLATE.contains("Action: \"*\"") && granted.iter().all(|a| !a.contains('*')), "no wildcard action");
    }

    #[test]
    fn the_serverless_repository_version_is_the_crates() {
        let version = TEMPLATE.lines().find_map(|l| l.trim().strip_prefix("SemanticVersion: ")).expect("SemanticVersion");
        assert_eq!(version, env!("CARGO_PKG_VERSION"), "template.yaml's AWS::ServerlessRepo::Application");
    }
}

#[cfg(test)]
mod front_door {
    /// The README's first template is a whole example (cfn-lint checks examples/ in `make test`), as written.
    #[test]
    fn the_readmes_first_template_is_examples_first_user_yaml() {
        let readme = include_str!("../README.md");
        let example = include_str!("../examples/first-user.yaml");
        assert!(
            readme.contains(&format!("```yaml\n{example}```")),
            "README.md's first template is not examples/first-user.yaml as written"
        );
        assert!(example.contains("Parameters:") && example.contains("AgentPassword:\n    Type: String\n    NoEcho: true"));
    }
}
