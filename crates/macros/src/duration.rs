//! Durations written in attributes: `"30s"`, `"500ms"`, `"2m"`, `"1h"`, or an integer (seconds,
//! as in the seed's `recovery_timeout=30`).

use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit};

use crate::args::Arg;

/// The duration in milliseconds, checked at compile time.
pub(crate) fn millis(arg: &Arg) -> syn::Result<u64> {
    let span = arg.value.span();
    let err = |why: &str| syn::Error::new(span, format!("`{}` {why}", arg.key));
    let ms = match &arg.value {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => {
            i.base10_parse::<u64>()?.checked_mul(1000).ok_or_else(|| err("is too large"))?
        }
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => parse_text(&s.value())
            .ok_or_else(|| err("must be a duration such as \"30s\", \"500ms\", \"2m\" or \"1h\""))?,
        _ => return Err(err("must be a duration string such as \"30s\" or an integer number of seconds")),
    };
    if ms == 0 {
        return Err(err("must be longer than zero"));
    }
    Ok(ms)
}

fn parse_text(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let scale = match unit.trim() {
        "ms" => 1,
        "s" | "sec" | "secs" => 1000,
        "m" | "min" | "mins" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::parse_text;

    #[test]
    fn units() {
        assert_eq!(parse_text("30s"), Some(30_000));
        assert_eq!(parse_text("500ms"), Some(500));
        assert_eq!(parse_text("2m"), Some(120_000));
        assert_eq!(parse_text("1h"), Some(3_600_000));
        assert_eq!(parse_text("1.5s"), None);
        assert_eq!(parse_text("30"), None);
        assert_eq!(parse_text("s"), None);
        assert_eq!(parse_text("10 days"), None);
    }
}
