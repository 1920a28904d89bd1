//! Wrong `#[with_fallback]` arguments fail to compile with a clear message.

#[test]
fn wrong_arguments_are_compile_errors() {
    let _one_at_a_time = crate::TRYBUILD.lock().unwrap_or_else(|e| e.into_inner());
    trybuild::TestCases::new().compile_fail("tests/fallback_ui/*.rs");
}
