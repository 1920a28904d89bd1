//! Stacking: `#[with_circuit_breaker] #[with_retry] #[with_fallback] fn f()` must nest as
//! breaker(retry(fallback(body))), the order they are written in.
//!
//! The compiler expands the topmost attribute first, and each attribute wraps the body it
//! sees, so left alone the first-written attribute would end up innermost. So an attribute
//! that finds another resilience attribute still unexpanded below it steps aside: it re-emits
//! the function with itself moved just below the last such attribute, marked with
//! [`DEFERRED`] so that it does not step aside again. The bottom attribute wraps the body
//! first; the deferred ones then expand in reverse order of deferral, outermost last.
//!
//! Every resilience attribute (including `with_fallback`) calls [`defer`] before wrapping.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Attribute, ItemFn, Meta};

use crate::args::{self, Args};
use crate::function::{self, Target};

/// The marker argument of a deferred attribute.
pub(crate) const DEFERRED: &str = "__elf_deferred";

/// The attributes that take part in stacking, by last path segment.
const STACKABLE: &[&str] = &["with_retry", "with_circuit_breaker", "with_fallback"];

fn is_stackable(attr: &Attribute) -> bool {
    attr.path().segments.last().is_some_and(|s| STACKABLE.iter().any(|n| s.ident == n))
}

fn is_deferred(attr: &Attribute) -> bool {
    match &attr.meta {
        Meta::List(list) => list.tokens.clone().into_iter().next().is_some_and(|t| t.to_string() == DEFERRED),
        _ => false,
    }
}

/// When an unexpanded resilience attribute sits below `#[name(args)]` on `func`, returns
/// `func` with `#[name(DEFERRED, args)]` placed just below the last such attribute.
pub(crate) fn defer(name: &str, args: &TokenStream, func: &ItemFn) -> Option<TokenStream> {
    let last = func.attrs.iter().rposition(|a| is_stackable(a) && !is_deferred(a))?;
    let ident = format_ident!("{}", name);
    let marker = format_ident!("{}", DEFERRED);
    let sep = if args.is_empty() { quote!() } else { quote!(,) };
    let attr: Attribute = syn::parse_quote!(#[::elf_resilience::#ident(#marker #sep #args)]);
    let mut func = func.clone();
    func.attrs.insert(last + 1, attr);
    Some(quote!(#func))
}

/// The start of every `key = value` attribute `#[name(attr)]` on `item`: parses the function and
/// the arguments (keys from `allowed`), steps aside when another resilience attribute is still
/// below (see [`defer`]), and otherwise lets `wrap` build the new function.
pub(crate) fn expand(
    name: &str,
    allowed: &[&str],
    attr: TokenStream,
    item: TokenStream,
    wrap: impl FnOnce(Target, Args) -> syn::Result<TokenStream>,
) -> syn::Result<TokenStream> {
    let target = function::parse(name, item)?;
    let args = args::parse(name, attr.clone(), allowed)?;
    if !args.deferred
        && let Some(out) = defer(name, &attr, &target.func)
    {
        return Ok(out);
    }
    wrap(target, args)
}
