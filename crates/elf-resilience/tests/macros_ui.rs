//! Wrong attribute arguments fail to compile with a clear message at the right place.

#[test]
fn wrong_arguments_are_compile_errors() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
