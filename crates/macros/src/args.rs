//! `key = value` argument lists, shared by every attribute.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, Meta, Token};

/// One `key = value` argument.
pub(crate) struct Arg {
    pub(crate) key: syn::Ident,
    pub(crate) value: Expr,
}

/// Parsed arguments: the `key = value` pairs in order, and whether the stacking marker was
/// present (see [`crate::stack`]).
pub(crate) struct Args {
    pub(crate) pairs: Vec<Arg>,
    pub(crate) deferred: bool,
}

/// Parses `key = value, ...`, rejecting keys outside `allowed` and repeated keys.
pub(crate) fn parse(attr: &str, tokens: TokenStream, allowed: &[&str]) -> syn::Result<Args> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens).map_err(|e| {
        let msg = format!("#[{attr}] takes `key = value` arguments: {}", expected(allowed));
        syn::Error::new(e.span(), msg)
    })?;
    let mut args = Args { pairs: Vec::new(), deferred: false };
    for meta in metas {
        match meta {
            Meta::Path(p) if p.is_ident(crate::stack::DEFERRED) => args.deferred = true,
            Meta::NameValue(nv) => {
                let key =
                    nv.path.get_ident().cloned().ok_or_else(|| unknown(attr, nv.path.span(), allowed))?;
                check_key(attr, &key, allowed, &args.pairs)?;
                args.pairs.push(Arg { key, value: nv.value });
            }
            other => {
                let msg = format!("#[{attr}] takes `key = value` arguments: {}", expected(allowed));
                return Err(syn::Error::new(other.span(), msg));
            }
        }
    }
    Ok(args)
}

fn check_key(attr: &str, key: &syn::Ident, allowed: &[&str], seen: &[Arg]) -> syn::Result<()> {
    if !allowed.iter().any(|a| key == a) {
        return Err(unknown(attr, key.span(), allowed));
    }
    if seen.iter().any(|a| a.key == *key) {
        return Err(syn::Error::new(key.span(), format!("`{key}` is given more than once")));
    }
    Ok(())
}

fn unknown(attr: &str, span: Span, allowed: &[&str]) -> syn::Error {
    syn::Error::new(span, format!("unknown argument for #[{attr}]; {}", expected(allowed)))
}

fn expected(allowed: &[&str]) -> String {
    let names: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
    format!("expected one of {}", names.join(", "))
}

/// The value as a positive integer literal that fits `u32`.
pub(crate) fn positive_u32(arg: &Arg) -> syn::Result<u32> {
    let err = || syn::Error::new(arg.value.span(), format!("`{}` must be a positive integer", arg.key));
    match &arg.value {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => match i.base10_parse::<u32>() {
            Ok(0) | Err(_) => Err(err()),
            Ok(n) => Ok(n),
        },
        _ => Err(err()),
    }
}

/// The value as a non-negative integer literal that fits `u32`.
pub(crate) fn u32_lit(arg: &Arg) -> syn::Result<u32> {
    match &arg.value {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse::<u32>(),
        other => Err(syn::Error::new(other.span(), format!("`{}` must be an integer", arg.key))),
    }
}

/// The value as a string literal.
pub(crate) fn string(arg: &Arg) -> syn::Result<syn::LitStr> {
    match &arg.value {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(s.clone()),
        other => Err(syn::Error::new(other.span(), format!("`{}` must be a string literal", arg.key))),
    }
}
