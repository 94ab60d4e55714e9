use proptest::test_runner::Config;

/// Cases per property unless `PROPTEST_CASES` says otherwise.
pub const DEFAULT_CASES: u32 = 1000;

/// `PROPTEST_CASES` when set to a number, else `default`.
pub fn cases_from_env_or(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

/// The kit's proptest configuration: [`DEFAULT_CASES`] (or `PROPTEST_CASES`), and no
/// regression files, since the runner is not tied to a source file.
pub fn proptest_config() -> Config {
    Config {
        cases: cases_from_env_or(DEFAULT_CASES),
        failure_persistence: None,
        ..Config::default()
    }
}
