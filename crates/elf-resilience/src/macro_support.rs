//! What the attribute macros' generated code calls, beyond the public API. Not a stable
//! interface: use the attributes instead.

use std::collections::BTreeSet;
use std::sync::{PoisonError, RwLock};

/// Every provider name handed out as `&'static str` so far, each stored once.
static PROVIDERS: RwLock<BTreeSet<&'static str>> = RwLock::new(BTreeSet::new());

/// `name` as a `&'static str`, for `#[with_fallback(.., switch = model)]` on a
/// `model: &'static str` argument when an attempt switches to another provider.
///
/// Each distinct name is copied once and kept for the life of the process. Provider names
/// come from the fallback protocol's configuration, so the set stays as small as that list.
pub fn static_provider(name: &str) -> &'static str {
    if let Some(known) = PROVIDERS.read().unwrap_or_else(PoisonError::into_inner).get(name) {
        return known;
    }
    let mut names = PROVIDERS.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = names.get(name) {
        return known;
    }
    let kept: &'static str = Box::leak(name.into());
    names.insert(kept);
    kept
}

#[cfg(test)]
mod tests {
    use super::static_provider;

    #[test]
    fn one_copy_per_name() {
        let a = static_provider(&String::from("claude"));
        let b = static_provider(&String::from("claude"));
        assert_eq!(a, "claude");
        assert!(std::ptr::eq(a, b));
    }
}
