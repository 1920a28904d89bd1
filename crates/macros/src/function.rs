//! The function an attribute is placed on, and the pieces every wrapper needs.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType, Type};

/// A function or method with a body that returns something (a `Result`).
pub(crate) struct Target {
    pub(crate) func: ItemFn,
    pub(crate) ret: Type,
}

/// Parses the item under `#[attr]`.
pub(crate) fn parse(attr: &str, item: TokenStream) -> syn::Result<Target> {
    let func: ItemFn = syn::parse2(item.clone()).map_err(|_| {
        syn::Error::new_spanned(&item, format!("#[{attr}] goes on a function or method with a body"))
    })?;
    if let Some(c) = &func.sig.constness {
        return Err(syn::Error::new(c.span(), format!("#[{attr}] cannot wrap a `const fn`")));
    }
    let ret = match &func.sig.output {
        ReturnType::Type(_, ty) => (**ty).clone(),
        ReturnType::Default => {
            let msg = format!("#[{attr}] needs a function that returns `Result<T, E>`");
            return Err(syn::Error::new(func.sig.ident.span(), msg));
        }
    };
    Ok(Target { func, ret })
}

impl Target {
    pub(crate) fn is_async(&self) -> bool {
        self.func.sig.asyncness.is_some()
    }

    /// The original body as an expression of the declared return type, so that `return` and
    /// `?` inside it keep their meaning within the closure or async block it is put in.
    pub(crate) fn typed_body(&self) -> TokenStream {
        let (ret, block) = (&self.ret, &self.func.block);
        quote!({ let __elf_out: #ret = #block; __elf_out })
    }

    /// The function with `body` in place of its own.
    pub(crate) fn with_body(&self, body: TokenStream) -> TokenStream {
        let ItemFn { attrs, vis, sig, .. } = &self.func;
        quote!(#(#attrs)* #vis #sig { #body })
    }
}
