//! Argument forms the attributes document compile.

#[test]
fn documented_forms_compile() {
    let _one_at_a_time = crate::TRYBUILD.lock().unwrap_or_else(|e| e.into_inner());
    trybuild::TestCases::new().pass("tests/pass/*.rs");
}
