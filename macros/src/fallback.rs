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
            #vis struct #grads<T = f32>(::core::marker::PhantomData<T>);
        }
    });
    quote! {
        #grads
        #[allow(dead_code)]
        #vis struct #name<T = f32>(::core::marker::PhantomData<T>);
        #[allow(dead_code)]
        #vis type #input<const B: usize, T = f32> = ::sinew::SMatrix<T, 1, B>;
        #[allow(dead_code)]
        #vis type #output<const B: usize, T = f32> = ::sinew::SMatrix<T, 1, B>;
        #[allow(dead_code)]
        #vis struct #workspace<const B: usize, T = f32>(::core::marker::PhantomData<T>);
        #[allow(dead_code)]
        #vis struct #train<const B: usize, T = f32>(::core::marker::PhantomData<T>);
    }
}
