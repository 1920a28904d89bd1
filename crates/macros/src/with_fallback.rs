//! `#[with_fallback]`: the body runs through the global `FallbackProtocol`.
//!
//! `#[with_fallback(ApiQuota)]`, `#[with_fallback(Database, strategies = [Retry, UseCache])]`,
//! `#[with_fallback(ApiQuota, switch = model, degrade(max_tokens, batch_size))]`,
//! `#[with_fallback(Database, cache_key = format!("user:{id}"))]`,
//! `#[with_fallback(Memory, queue = "batch-jobs")]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, Meta, Pat, Token, Type};

use crate::{fallback_queue, function, stack};

const NAME: &str = "with_fallback";
const RESOURCES: &[&str] =
    &["ApiQuota", "Memory", "Cpu", "Database", "McpServer", "Network", "Docker", "K8sPod"];
const STRATEGIES: &[&str] =
    &["Retry", "SwitchProvider", "DegradeService", "QueueRequest", "UseCache", "CircuitBreak", "LoadShed"];
const KNOBS: &[&str] = &["max_tokens", "temperature", "batch_size"];

#[derive(Default)]
struct Settings {
    deferred: bool,
    resource: Option<syn::Ident>,
    strategies: Option<Vec<syn::Ident>>,
    switch: Option<syn::Ident>,
    degrade: Vec<syn::Ident>,
    cache_key: Option<Expr>,
    queue: Option<syn::LitStr>,
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let target = function::parse(NAME, item)?;
    let settings = parse(attr.clone())?;
    if !settings.deferred
        && let Some(out) = stack::defer(NAME, &attr, &target.func)
    {
        return Ok(out);
    }
    let request = request(&settings, &target.func.sig)?;
    let knobs = knobs(&settings, &target.func.sig)?;
    let body = target.typed_body();
    let run = if target.is_async() {
        quote!(__elf_protocol.execute(__elf_request, |__elf_attempt| async {
            let __elf_attempt: ::elf_resilience::Attempt = __elf_attempt;
            #knobs
            #body
        }).await)
    } else {
        quote!(__elf_protocol.execute_request_blocking(__elf_request, |__elf_attempt: ::elf_resilience::Attempt| {
            #knobs
            #body
        }))
    };
    // A missing `From<FallbackRejection>` on the error type points at the return type.
    let settle = quote_spanned!(target.ret.span()=> ::elf_resilience::fallback_into_result);
    Ok(target.with_body(quote! {
        let __elf_protocol = ::elf_resilience::FallbackProtocol::global();
        let __elf_request = #request;
        #settle(#run)
    }))
}

fn parse(tokens: TokenStream) -> syn::Result<Settings> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens.clone())?;
    let mut s = Settings::default();
    for meta in metas {
        match meta {
            Meta::Path(p) if p.is_ident(stack::DEFERRED) => s.deferred = true,
            Meta::Path(p) => set_resource(&mut s, p)?,
            Meta::NameValue(nv) => set_pair(&mut s, nv)?,
            Meta::List(list) if list.path.is_ident("degrade") => s.degrade = degrade_knobs(&list)?,
            other => return Err(syn::Error::new(other.span(), usage())),
        }
    }
    if s.resource.is_none() {
        let msg = format!("#[{NAME}] needs a resource type first: one of {}", RESOURCES.join(", "));
        return Err(syn::Error::new(Span::call_site(), msg));
    }
    if let Some(handler) = &s.queue {
        fallback_queue::check_order(handler, s.strategies.as_deref())?;
    }
    Ok(s)
}

fn usage() -> String {
    format!(
        "#[{NAME}] takes a resource type, then optionally `strategies = [..]`, `switch = ARG`, \
         `degrade(ARG, ..)`, `cache_key = EXPR` and `queue = \"HANDLER\"`"
    )
}

fn set_resource(s: &mut Settings, path: syn::Path) -> syn::Result<()> {
    let ident = path.get_ident().cloned().ok_or_else(|| syn::Error::new(path.span(), usage()))?;
    if s.resource.is_some() {
        return Err(syn::Error::new(ident.span(), "the resource type is given more than once"));
    }
    if !RESOURCES.iter().any(|r| ident == r) {
        let msg = format!("unknown resource type `{ident}`; expected one of {}", RESOURCES.join(", "));
        return Err(syn::Error::new(ident.span(), msg));
    }
    s.resource = Some(ident);
    Ok(())
}

fn set_pair(s: &mut Settings, nv: syn::MetaNameValue) -> syn::Result<()> {
    let key = nv.path.get_ident().map(ToString::to_string).unwrap_or_default();
    let taken = match key.as_str() {
        "strategies" => s.strategies.replace(strategy_list(&nv.value)?).is_some(),
        "switch" => {
            let msg = "`switch` names an argument, e.g. `switch = model`";
            s.switch.replace(plain_ident(&nv.value, msg)?).is_some()
        }
        "cache_key" => s.cache_key.replace(nv.value.clone()).is_some(),
        "queue" => s.queue.replace(fallback_queue::handler(&nv.value)?).is_some(),
        _ => return Err(syn::Error::new(nv.path.span(), format!("unknown argument `{key}`; {}", usage()))),
    };
    if taken {
        return Err(syn::Error::new(nv.path.span(), format!("`{key}` is given more than once")));
    }
    Ok(())
}

fn plain_ident(expr: &Expr, msg: &str) -> syn::Result<syn::Ident> {
    match expr {
        Expr::Path(p) => p.path.get_ident().cloned().ok_or_else(|| syn::Error::new(expr.span(), msg)),
        _ => Err(syn::Error::new(expr.span(), msg)),
    }
}

fn strategy_list(expr: &Expr) -> syn::Result<Vec<syn::Ident>> {
    let Expr::Array(array) = expr else {
        return Err(syn::Error::new(expr.span(), "`strategies` takes a list, e.g. `[Retry, UseCache]`"));
    };
    if array.elems.is_empty() {
        return Err(syn::Error::new(expr.span(), "`strategies` must name at least one strategy"));
    }
    let known = STRATEGIES.join(", ");
    let check = |e: &Expr| {
        let ident = plain_ident(e, &format!("expected a strategy: one of {known}"))?;
        if STRATEGIES.iter().any(|s| ident == s) {
            Ok(ident)
        } else {
            Err(syn::Error::new(ident.span(), format!("unknown strategy `{ident}`; expected one of {known}")))
        }
    };
    array.elems.iter().map(check).collect()
}

fn degrade_knobs(list: &syn::MetaList) -> syn::Result<Vec<syn::Ident>> {
    let idents = Punctuated::<syn::Ident, Token![,]>::parse_terminated.parse2(list.tokens.clone())?;
    if idents.is_empty() {
        return Err(syn::Error::new(list.span(), "`degrade(..)` names at least one argument"));
    }
    for ident in &idents {
        if !KNOBS.iter().any(|k| ident == k) {
            let msg = format!("unknown degrade knob `{ident}`; expected one of {}", KNOBS.join(", "));
            return Err(syn::Error::new(ident.span(), msg));
        }
    }
    Ok(idents.into_iter().collect())
}

/// The `FallbackRequest` expression for one call.
fn request(s: &Settings, sig: &syn::Signature) -> syn::Result<TokenStream> {
    let resource = s.resource.as_ref().map(|r| quote!(::elf_resilience::ResourceType::#r));
    let op = sig.ident.to_string();
    let model = s.switch.as_ref().map(|m| quote!(.model(::std::string::ToString::to_string(&#m))));
    let mut req = quote! {
        ::elf_resilience::FallbackRequest::new(#resource)
            .context(::elf_resilience::Context::new().operation(#op) #model)
    };
    if let Some(list) = &s.strategies {
        req.extend(quote!(.strategies([#(::elf_resilience::FallbackStrategy::#list),*])));
    }
    if let Some(key) = &s.cache_key {
        req.extend(quote_spanned!(key.span()=> .cache_key(#key)));
    }
    if let Some(handler) = &s.queue {
        req.extend(fallback_queue::payload(handler, sig)?);
    }
    Ok(req)
}

/// Rebinds the `switch` and `degrade` arguments from the attempt, inside the per-attempt body.
fn knobs(s: &Settings, sig: &syn::Signature) -> syn::Result<TokenStream> {
    let mut out = TokenStream::new();
    if let Some(model) = &s.switch {
        let ty = arg_type(sig, model)?;
        out.extend(switch_binding(model, &ty)?);
    }
    for knob in &s.degrade {
        let ty = arg_type(sig, knob)?;
        let scale = format_ident!("{}_scale", knob);
        out.extend(if knob == "temperature" {
            quote!(let #knob: #ty = ((#knob as f64) * __elf_attempt.degrade.#scale) as #ty;)
        } else {
            quote!(let #knob: #ty = (((#knob as f64) * __elf_attempt.degrade.#scale).round() as #ty).max(1 as #ty);)
        });
    }
    Ok(out)
}

fn switch_binding(model: &syn::Ident, ty: &Type) -> syn::Result<TokenStream> {
    let text = quote!(#ty).to_string().replace(' ', "");
    match text.as_str() {
        "&str" => Ok(quote!(let #model: #ty = __elf_attempt.provider.as_deref().unwrap_or(#model);)),
        // The attempt's provider lives only as long as the attempt: another provider's name is
        // made `'static` (kept once per name), the caller's own is passed on as it came.
        "&'staticstr" => Ok(quote! {
            let #model: #ty = match __elf_attempt.provider.as_deref() {
                ::core::option::Option::Some(p) if p != #model => ::elf_resilience::macro_support::static_provider(p),
                _ => #model,
            };
        }),
        "String" | "std::string::String" | "::std::string::String" => Ok(quote! {
            let #model: #ty = __elf_attempt.provider.clone().unwrap_or_else(|| ::std::clone::Clone::clone(&#model));
        }),
        _ => Err(syn::Error::new(
            ty.span(),
            format!("`switch = {model}` needs `{model}: &str` or `{model}: String`"),
        )),
    }
}

fn arg_type(sig: &syn::Signature, name: &syn::Ident) -> syn::Result<Type> {
    let found = sig.inputs.iter().find_map(|arg| match arg {
        FnArg::Typed(pt) => match &*pt.pat {
            Pat::Ident(pi) if pi.ident == *name => Some((*pt.ty).clone()),
            _ => None,
        },
        FnArg::Receiver(_) => None,
    });
    found.ok_or_else(|| syn::Error::new(name.span(), format!("the function has no argument named `{name}`")))
}
