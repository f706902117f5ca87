//! What is emitted next to the errors: a stub of the network's whole public surface (the
//! struct, its workspaces, consts, constructors, forward and backward passes, training
//! steps and trait impls), so that code using the network does not cascade into "no
//! function `init` found" or "cannot find type" errors and only the real mistakes show
//! (thiserror's `fallback.rs` approach). Nothing here is ever run: the invocation does not
//! compile.

use crate::ast::{Arg, Item, LayerDecl, Network, ShapeDecl, Value};
use crate::expand::{Names, lit};
use proc_macro2::TokenStream;
use quote::quote;

/// The stub. `io` gives the input and output sizes when they are known (from the resolved
/// model, or read off the declaration); the `Model` impl needs them.
pub fn stub(net: &Network, io: Option<(usize, usize)>) -> TokenStream {
    let Names { net: name, input, output, workspace, train, grads } = Names::new(&net.name);
    let vis = &net.vis;
    let io = io.or_else(|| Some((input_size(net)?, output_size(net)?)));
    let (inputs, outputs) = io.map_or((lit(1), lit(1)), |(i, o)| (lit(i), lit(o)));
    let frozen = net.items.iter().any(|i| matches!(i, Item::Layer(l) if l.frozen));
    let grads_ty = if frozen { quote!(#grads<__T>) } else { quote!(#name<__T>) };
    let grads_struct = frozen.then(|| {
        quote! {
            #[derive(Clone, Debug, PartialEq, ::sinew::__private::Zeroable)]
            #[allow(missing_docs)]
            #vis struct #grads<__T: ::sinew::Float = f32>(::core::marker::PhantomData<__T>);
            impl<__T: ::sinew::Float> ::sinew::Parameters<__T> for #grads<__T> {
                const TENSORS: &'static [::sinew::TensorInfo] = &[];
                fn tensor(&self, _: usize) -> &[__T] { ::core::unreachable!() }
                fn tensor_mut(&mut self, _: usize) -> &mut [__T] { ::core::unreachable!() }
            }
        }
    });
    let embedded = net.weights.as_ref().map(|_| {
        quote! {
            #[allow(missing_docs)]
            impl #name<f32> {
                /// (stub)
                pub const EMBEDDED: Self = #name(::core::marker::PhantomData);
            }
            #[allow(missing_docs)]
            impl #name<f64> {
                /// (stub)
                pub const EMBEDDED_F64: Self = #name(::core::marker::PhantomData);
            }
        }
    });
    // The passes that are both inherent methods and the `Model` impl's, as in the real
    // expansion; `vis` is `pub` for the inherent ones.
    let passes = |vis: TokenStream| {
        quote! {
            #vis fn forward<'w, const __B: usize>(
                &self,
                _: &::sinew::SMatrix<__T, #inputs, __B>,
                _: &'w mut #workspace<__B, __T>,
            ) -> &'w ::sinew::SMatrix<__T, #outputs, __B> {
                ::core::unreachable!()
            }
            #vis fn forward_train_partial<'w, const __B: usize, R: ::sinew::__private::Rng + ?Sized>(
                &mut self,
                _: &::sinew::SMatrix<__T, #inputs, __B>,
                _: usize,
                _: &'w mut #train<__B, __T>,
                _: &mut R,
            ) -> &'w ::sinew::SMatrix<__T, #outputs, __B> {
                ::core::unreachable!()
            }
            #vis fn backward<const __B: usize>(
                &self,
                _: &::sinew::SMatrix<__T, #inputs, __B>,
                _: &mut #train<__B, __T>,
                _: ::core::option::Option<&mut ::sinew::SMatrix<__T, #inputs, __B>>,
            ) {
                ::core::unreachable!()
            }
        }
    };
    let inherent_passes = passes(quote!(pub));
    let model_impl = io.map(|_| {
        let trait_passes = passes(TokenStream::new());
        quote! {
            impl<__T: ::sinew::Float> ::sinew::Model<__T, #inputs, #outputs> for #name<__T> {
                type Head = ::sinew::head::Logits;
                type Workspace<const __B: usize> = #workspace<__B, __T>;
                type TrainWorkspace<const __B: usize> = #train<__B, __T>;
                #trait_passes
                fn output_and_grad<const __B: usize>(
                    _: &mut #train<__B, __T>,
                ) -> (&::sinew::SMatrix<__T, #outputs, __B>, &mut ::sinew::SMatrix<__T, #outputs, __B>) {
                    ::core::unreachable!()
                }
                fn gradients<const __B: usize>(_: &#train<__B, __T>) -> &#grads_ty {
                    ::core::unreachable!()
                }
                fn gradients_mut<const __B: usize>(_: &mut #train<__B, __T>) -> &mut #grads_ty {
                    ::core::unreachable!()
                }
            }
        }
    });
    quote! {
        #grads_struct
        #embedded
        #model_impl

        #[derive(Clone, Debug, PartialEq, ::sinew::__private::Zeroable)]
        #[allow(missing_docs)]
        #vis struct #name<__T: ::sinew::Float = f32>(::core::marker::PhantomData<__T>);
        #[allow(dead_code, missing_docs)]
        #vis type #input<const __B: usize, __T = f32> = ::sinew::SMatrix<__T, #inputs, __B>;
        #[allow(dead_code, missing_docs)]
        #vis type #output<const __B: usize, __T = f32> = ::sinew::SMatrix<__T, #outputs, __B>;
        #[derive(Clone, Debug, ::sinew::__private::Zeroable)]
        #[allow(missing_docs)]
        #vis struct #workspace<const __B: usize, __T: ::sinew::Float = f32>(::core::marker::PhantomData<__T>);
        #[derive(Clone, Debug, ::sinew::__private::Zeroable)]
        #[allow(missing_docs)]
        #vis struct #train<const __B: usize, __T: ::sinew::Float = f32> {
            /// (stub)
            pub grads: #grads_ty,
            /// (stub)
            pub samples: u32,
        }

        #[allow(dead_code, missing_docs, clippy::too_many_arguments)]
        impl<__T: ::sinew::Float> #name<__T> {
            pub const INPUT: usize = #inputs;
            pub const OUTPUT: usize = #outputs;
            pub const PARAMETERS: usize = 0;
            pub const TRAINABLE_PARAMETERS: usize = 0;
            pub const SUMMARY: &'static str = "";
            pub const PARAMETER_BYTES: usize = 0;
            pub const GRADIENT_BYTES: usize = 0;
            pub const SGD_STATE_BYTES: usize = 0;
            pub const MOMENTUM_STATE_BYTES: usize = 0;
            pub const RMSPROP_STATE_BYTES: usize = 0;
            pub const ADAM_STATE_BYTES: usize = 0;
            pub fn zeroed() -> Self { ::core::unreachable!() }
            pub fn init<R: ::sinew::__private::Rng + ?Sized>(_: &mut R) -> Self { ::core::unreachable!() }
            pub fn init_in_place<R: ::sinew::__private::Rng + ?Sized>(&mut self, _: &mut R) { ::core::unreachable!() }
            #inherent_passes
            pub fn forward_train<'w, const __B: usize, R: ::sinew::__private::Rng + ?Sized>(
                &mut self,
                _: &::sinew::SMatrix<__T, #inputs, __B>,
                _: &'w mut #train<__B, __T>,
                _: &mut R,
            ) -> &'w ::sinew::SMatrix<__T, #outputs, __B> {
                ::core::unreachable!()
            }
            pub fn train_step<const __B: usize, Y: ?Sized, L, O, R: ?Sized>(
                &mut self,
                _: &::sinew::SMatrix<__T, #inputs, __B>,
                _: &Y,
                _: &L,
                _: &mut O,
                _: &mut #train<__B, __T>,
                _: &mut R,
            ) -> ::core::result::Result<__T, ::sinew::NonFiniteLoss> {
                ::core::unreachable!()
            }
            pub fn train_step_partial<const __B: usize, Y: ?Sized, L, O, R: ?Sized>(
                &mut self,
                _: &::sinew::SMatrix<__T, #inputs, __B>,
                _: &Y,
                _: usize,
                _: &L,
                _: &mut O,
                _: &mut #train<__B, __T>,
                _: &mut R,
            ) -> ::core::result::Result<__T, ::sinew::NonFiniteLoss> {
                ::core::unreachable!()
            }
        }

        #[allow(dead_code, missing_docs)]
        impl<const __B: usize, __T: ::sinew::Float> #workspace<__B, __T> {
            pub const BYTES: usize = 0;
            pub fn zeroed() -> Self { ::core::unreachable!() }
        }
        #[allow(dead_code, missing_docs)]
        impl<const __B: usize, __T: ::sinew::Float> #train<__B, __T> {
            pub const BYTES: usize = 0;
            pub fn zeroed() -> Self { ::core::unreachable!() }
        }

        impl<__T: ::sinew::Float> ::sinew::Parameters<__T> for #name<__T> {
            const TENSORS: &'static [::sinew::TensorInfo] = &[];
            fn tensor(&self, _: usize) -> &[__T] { ::core::unreachable!() }
            fn tensor_mut(&mut self, _: usize) -> &mut [__T] { ::core::unreachable!() }
        }
        impl<__T: ::sinew::Float> ::sinew::Trainable<__T> for #name<__T> {
            type Grads = #grads_ty;
            fn trainable_mut(&mut self, _: usize) -> &mut [__T] { ::core::unreachable!() }
        }

        ::sinew::__with_std! {
            #[allow(dead_code, missing_docs)]
            impl<__T: ::sinew::Float> #name<__T> {
                pub fn boxed_zeroed() -> ::sinew::__private::Box<Self> { ::core::unreachable!() }
                pub fn boxed_init<R: ::sinew::__private::Rng + ?Sized>(_: &mut R) -> ::sinew::__private::Box<Self> {
                    ::core::unreachable!()
                }
            }
            #[allow(dead_code, missing_docs)]
            impl<const __B: usize, __T: ::sinew::Float> #workspace<__B, __T> {
                pub fn boxed() -> ::sinew::__private::Box<Self> { ::core::unreachable!() }
            }
            #[allow(dead_code, missing_docs)]
            impl<const __B: usize, __T: ::sinew::Float> #train<__B, __T> {
                pub fn boxed() -> ::sinew::__private::Box<Self> { ::core::unreachable!() }
            }
        }
    }
}

/// The input size as written, if every size is a plain integer.
fn input_size(net: &Network) -> Option<usize> {
    let decl = net.items.iter().find_map(|i| match i {
        Item::Input(d) => Some(d),
        _ => None,
    })?;
    match &decl.shape {
        ShapeDecl::Flat(v) => int(v),
        ShapeDecl::Image(dims, _) => dims
            .iter()
            .try_fold(1usize, |acc, d| acc.checked_mul(int(d)?))
            .filter(|&n| n <= crate::ast::MAX_SIZE),
        // `Sequence(T, F)`: T·F values; `Tokens(T, ..)`: T.
        ShapeDecl::Call(name, args) => {
            let sizes: Vec<usize> = args
                .list
                .iter()
                .filter_map(|a| match a {
                    Arg::Positional(v) => int(v),
                    _ => None,
                })
                .collect();
            match (name.to_string().as_str(), sizes.as_slice()) {
                (crate::symbol::SEQUENCE, [t, f]) => t.checked_mul(*f).filter(|&n| n <= crate::ast::MAX_SIZE),
                (crate::symbol::TOKENS, [t, ..]) => Some(*t),
                _ => None,
            }
        }
    }
}

/// The output size, if the last layer is a `Dense` with its size written out.
fn output_size(net: &Network) -> Option<usize> {
    let last: &LayerDecl = net.items.iter().rev().find_map(|i| match i {
        Item::Layer(l) if l.kind != "Dropout" => Some(l),
        _ => None,
    })?;
    if last.kind != "Dense" {
        return None;
    }
    match last.args.as_ref()?.list.first()? {
        Arg::Positional(v) | Arg::Arrow { to: v, .. } => int(v),
        Arg::Named { .. } => None,
    }
}

fn int(v: &Value) -> Option<usize> {
    match v {
        Value::Int(lit) => lit.base10_parse().ok().filter(|&n| n > 0 && n <= crate::ast::MAX_SIZE),
        _ => None,
    }
}
