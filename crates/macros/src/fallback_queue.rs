//! `queue = "handler"` of `#[with_fallback]`: the function's arguments become the payload
//! `QueueRequest` enqueues for that handler.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, FnArg, Lit, LitStr, Pat, Signature};

const USAGE: &str = "`queue` names the replay handler as a string literal, e.g. `queue = \"batch-jobs\"`";

/// The handler name of `queue = "..."`.
pub(crate) fn handler(value: &Expr) -> syn::Result<LitStr> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) if !s.value().trim().is_empty() => Ok(s.clone()),
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => {
            Err(syn::Error::new(s.span(), "the `queue` handler name must not be empty"))
        }
        other => Err(syn::Error::new(other.span(), USAGE)),
    }
}

/// `queue` is pointless when the strategy list leaves out `QueueRequest`.
pub(crate) fn check_order(handler: &LitStr, strategies: Option<&[syn::Ident]>) -> syn::Result<()> {
    match strategies {
        Some(list) if !list.iter().any(|s| s == "QueueRequest") => Err(syn::Error::new(
            handler.span(),
            "`queue` is given but `strategies` leaves out `QueueRequest`: add it, or drop `queue`",
        )),
        _ => Ok(()),
    }
}

/// `.queue_args("handler", QueueArgs::new().arg("a", &a)...)`: every typed argument by name,
/// each checked for `Serialize` at its own type. The receiver is not part of the payload.
pub(crate) fn payload(handler: &LitStr, sig: &Signature) -> syn::Result<TokenStream> {
    let mut args = TokenStream::new();
    for arg in &sig.inputs {
        let FnArg::Typed(pt) = arg else { continue };
        let Pat::Ident(pi) = &*pt.pat else {
            let msg = "`queue` serializes the arguments by name: give this argument a plain name";
            return Err(syn::Error::new(pt.pat.span(), msg));
        };
        let (ident, name) = (&pi.ident, pi.ident.to_string());
        let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
        args.extend(quote_spanned!(pt.ty.span()=> .arg(#name, &#ident)));
    }
    Ok(quote!(.queue_args(#handler, ::elf_resilience::QueueArgs::new() #args)))
}
