//! What is emitted next to the errors: a stub of the network's public surface, so that
//! code using it does not cascade into "cannot find type" errors (thiserror's approach).

use crate::ast::{Item, Network};
use crate::expand::Names;
use proc_macro2::TokenStream;
use quote::quote;

pub fn stub(net: &Network) -> TokenStream {
    let Names { net: name, input, output, workspace, train, grads } = Names::new(&net.name);
    let vis = &net.vis;
    let frozen = net.items.iter().any(|i| matches!(i, Item::Layer(l) if l.frozen));
    let grads = frozen.then(|| {
        quote! {
            #[allow(dead_code)]
            #vis struct #grads<__T = f32>(::core::marker::PhantomData<__T>);
        }
    });
    quote! {
        #grads
        #[allow(dead_code)]
        #vis struct #name<__T = f32>(::core::marker::PhantomData<__T>);
        #[allow(dead_code)]
        #vis type #input<const __B: usize, __T = f32> = ::sinew::SMatrix<__T, 1, __B>;
        #[allow(dead_code)]
        #vis type #output<const __B: usize, __T = f32> = ::sinew::SMatrix<__T, 1, __B>;
        #[allow(dead_code)]
        #vis struct #workspace<const __B: usize, __T = f32>(::core::marker::PhantomData<__T>);
        #[allow(dead_code)]
        #vis struct #train<const __B: usize, __T = f32>(::core::marker::PhantomData<__T>);
    }
}
