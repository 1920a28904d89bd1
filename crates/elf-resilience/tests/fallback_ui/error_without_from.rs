#[derive(Debug)]
struct MyError;

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("my error")
    }
}

#[elf_resilience::with_fallback(Cpu)]
fn f() -> Result<(), MyError> {
    Ok(())
}

fn main() {}
