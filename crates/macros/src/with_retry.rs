//! `#[with_retry]`: the body runs under an `elf_resilience::Retry`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::args::{self, Args};
use crate::function::Target;
use crate::{duration, stack};

const NAME: &str = "with_retry";
const ALLOWED: &[&str] = &["max_retries", "backoff", "retry_if", "max_elapsed"];
/// `max_retries` when neither it nor `backoff` is given (the seed's default).
const DEFAULT_MAX_RETRIES: u32 = 3;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    stack::expand(NAME, ALLOWED, attr, item, wrap)
}

fn wrap(target: Target, args: Args) -> syn::Result<TokenStream> {
    let policy = policy(&args)?;
    let body = target.typed_body();
    let call = if target.is_async() {
        quote!(__elf_retry.call_async(|| async #body).await)
    } else {
        quote!(__elf_retry.call(|| #body))
    };
    Ok(target.with_body(quote! {
        let __elf_retry = #policy;
        ::core::result::Result::map_err(#call, ::elf_resilience::RetryError::into_inner)
    }))
}

/// The `Retry` expression the arguments describe.
fn policy(args: &Args) -> syn::Result<TokenStream> {
    let mut backoff = None;
    let mut extra = TokenStream::new();
    for arg in &args.pairs {
        let value = &arg.value;
        match arg.key.to_string().as_str() {
            "max_retries" | "backoff" if backoff.is_some() => {
                let msg = "give either `max_retries` or `backoff`, not both";
                return Err(syn::Error::new(arg.key.span(), msg));
            }
            "max_retries" => {
                let n = args::u32_lit(arg)?;
                backoff = Some(quote!(::elf_resilience::ExponentialBackoff::new().with_max_retries(#n)));
            }
            "backoff" => backoff = Some(quote_spanned!(value.span()=> #value)),
            "retry_if" => extra.extend(quote_spanned!(value.span()=> .retry_if(#value))),
            _ => {
                let ms = duration::millis(arg)?;
                extra.extend(quote!(.max_elapsed(::core::time::Duration::from_millis(#ms))));
            }
        }
    }
    let backoff = backoff.unwrap_or_else(
        || quote!(::elf_resilience::ExponentialBackoff::new().with_max_retries(#DEFAULT_MAX_RETRIES)),
    );
    Ok(quote!(::elf_resilience::Retry::new(#backoff) #extra))
}
