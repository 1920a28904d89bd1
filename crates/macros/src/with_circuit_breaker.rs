//! `#[with_circuit_breaker]`: the body runs through a named breaker from the global registry.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::args::{self, Args};
use crate::function::Target;
use crate::{duration, stack};

const NAME: &str = "with_circuit_breaker";
const ALLOWED: &[&str] = &["failure_threshold", "recovery_timeout", "name", "half_open_permits", "clock"];
/// The breaker's largest count setting.
const MAX_COUNT: u32 = 0xFFFF;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    stack::expand(NAME, ALLOWED, attr, item, wrap)
}

fn wrap(target: Target, args: Args) -> syn::Result<TokenStream> {
    let (name, setters) = settings(&args, &target.func.sig.ident)?;
    let ret = &target.ret;
    let body = target.typed_body();
    let run = if target.is_async() { quote!(async #body.await) } else { quote!((|| #body)()) };
    // `?` turns a rejection into the function's error type: point a missing
    // `From<CircuitOpen>` at the return type.
    let acquire = quote_spanned!(ret.span()=> __elf_breaker.try_acquire()?);
    Ok(target.with_body(quote! {
        static __ELF_BREAKER: ::std::sync::OnceLock<::elf_resilience::CircuitBreaker> =
            ::std::sync::OnceLock::new();
        let __elf_breaker = __ELF_BREAKER.get_or_init(|| {
            let registry = ::elf_resilience::CircuitBreakerRegistry::global();
            let builder = ::elf_resilience::CircuitBreaker::builder() #setters;
            // The settings were checked at compile time, so the fallback is never taken. A
            // breaker already registered under this name is kept (with a warning if its
            // settings differ).
            registry.get_or_create_with(#name, builder).unwrap_or_else(|_| registry.get_or_create(#name))
        });
        let __elf_permit = #acquire;
        let __elf_result: #ret = #run;
        __elf_permit.record(&__elf_result);
        __elf_result
    }))
}

/// The breaker's name (an expression: by default the function's module path and name, so
/// same-named functions of two modules get two breakers) and its builder calls.
fn settings(args: &Args, func: &syn::Ident) -> syn::Result<(TokenStream, TokenStream)> {
    let func_name = syn::LitStr::new(&func.to_string(), func.span());
    let mut name = quote!(::core::concat!(::core::module_path!(), "::", #func_name));
    let mut setters = TokenStream::new();
    for arg in &args.pairs {
        match arg.key.to_string().as_str() {
            "name" => {
                let given = non_empty(args::string(arg)?)?;
                name = quote!(#given);
            }
            "clock" => {
                // Evaluated once, when the breaker is created; a type error points at it.
                let value = &arg.value;
                let clock = quote_spanned!(value.span()=> { let clock: ::elf_resilience::SharedClock = #value; clock });
                setters.extend(quote!(.clock(#clock)));
            }
            "recovery_timeout" => {
                let ms = duration::millis(arg)?;
                setters.extend(quote!(.recovery_timeout(::core::time::Duration::from_millis(#ms))));
            }
            key => {
                let n = count(arg)?;
                let setter = syn::Ident::new(key, arg.key.span());
                setters.extend(quote!(.#setter(#n)));
            }
        }
    }
    Ok((name, setters))
}

fn count(arg: &args::Arg) -> syn::Result<u32> {
    let n = args::positive_u32(arg)?;
    if n > MAX_COUNT {
        return Err(syn::Error::new(arg.value.span(), format!("`{}` must be at most {MAX_COUNT}", arg.key)));
    }
    Ok(n)
}

fn non_empty(s: syn::LitStr) -> syn::Result<syn::LitStr> {
    if s.value().trim().is_empty() {
        return Err(syn::Error::new(s.span(), "`name` must not be empty"));
    }
    Ok(s)
}
