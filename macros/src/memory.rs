//! Byte counts of a network and its buffers in `f32`, and the `#[budget]` rule.
//!
//! Each kind's counts are in its file in `layers/` beside its types (every buffer is a
//! matrix of `f32` or `u32`, so there is no padding). They are needed before expansion,
//! because the `#[budget]` error quotes them; the generated code asserts at compile time
//! that they equal `size_of` of the real types (`expand::budget_assertions`), so they
//! cannot drift. A check: it reads the model and depends on no later stage.

use crate::ast::Budget;
use crate::model::{Layer, Model};
use crate::report::Errors;

/// Bytes of one `f32` (and of one `u32` index of max pooling).
const SCALAR: u128 = 4;

/// Values stored in a layer's field of the network.
fn stored(layer: &Layer) -> u128 {
    layer.code.stored(layer)
}

/// Values in a layer's inference buffers for batch `b`.
fn inference(layer: &Layer, b: u128) -> u128 {
    if layer.has_inference_buffer() { layer.code.inference_values(layer, b) } else { 0 }
}

/// Values in a layer's training buffers for batch `b`.
fn training(layer: &Layer, b: u128) -> u128 {
    if layer.has_training_buffer() { layer.code.training_values(layer, b) } else { 0 }
}

/// The byte counts of a network in `f32` at one batch size.
pub struct Footprint {
    pub parameters: u128,
    pub gradients: u128,
    pub workspace: u128,
    pub train_workspace: u128,
}

impl Footprint {
    pub fn new(model: &Model, batch: usize) -> Self {
        let b = batch as u128;
        let parameters: u128 = model.layers.iter().map(stored).sum();
        let gradients: u128 = model.layers.iter().filter(|l| l.trained()).map(stored).sum();
        let workspace: u128 = model.layers.iter().map(|l| inference(l, b)).sum();
        // Every layer's buffers, the gradients, and `samples: u32`.
        let train_workspace = model.layers.iter().map(|l| training(l, b)).sum::<u128>() + gradients + 1;
        Footprint {
            parameters: parameters * SCALAR,
            gradients: gradients * SCALAR,
            workspace: workspace * SCALAR,
            train_workspace: train_workspace * SCALAR,
        }
    }

    /// Bytes of optimizer state tensors for the optimizer named `name`.
    fn state(&self, name: &str) -> u128 {
        match name {
            "Adam" => 2 * self.gradients,
            "Momentum" | "RmsProp" => self.gradients,
            _ => 0,
        }
    }
}

/// `1,234,567`.
fn grouped(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The layer with the most parameter bytes, for the hint.
fn largest<'m>(model: &'m Model) -> Option<(&'m Layer, u128)> {
    model.layers.iter().map(|l| (l, stored(l) * SCALAR)).filter(|&(_, b)| b > 0).max_by_key(|&(_, b)| b)
}

/// Rule: a network with `#[budget(...)]` fits it. `flash` holds the parameters (embedded
/// weights live there); `ram` holds the inference workspace for `batch` samples or, with
/// `optimizer = X`, everything training needs: the network, the training workspace (its
/// gradients included) and the optimizer's state.
pub fn check_budget(model: &Model, budget: &Budget, fp: &Footprint, errors: &mut Errors) {
    let name = &model.net.name;
    if let Some((limit, lit)) = &budget.flash
        && fp.parameters > *limit
    {
        let hint = largest(model)
            .map(|(l, b)| format!("; the largest layer is `{}` ({} bytes)", l.name, grouped(b)))
            .unwrap_or_default();
        errors.error(
            lit,
            format!(
                "network `{name}` needs {} bytes of flash for its parameters (f32), over its budget of {} bytes by {}{hint}",
                grouped(fp.parameters),
                grouped(*limit),
                grouped(fp.parameters - limit),
            ),
        );
    }
    if let Some((limit, lit)) = &budget.ram {
        let b = budget.batch;
        let (total, what, breakdown) = match &budget.optimizer {
            Some(opt) => {
                let state = fp.state(&opt.to_string());
                let hint = if model.has_frozen() {
                    ""
                } else {
                    "; layers marked `#[frozen]` would need no gradient or optimizer state"
                };
                (
                    fp.parameters + fp.train_workspace + state,
                    format!("to train with {opt} on batches of {b}"),
                    format!(
                        ": {} for the parameters, {} for the training buffers (gradients included) and {} for the optimizer state{hint}",
                        grouped(fp.parameters),
                        grouped(fp.train_workspace),
                        grouped(state)
                    ),
                )
            }
            None => (
                fp.workspace,
                format!("for inference on batches of {b}"),
                String::from(": the workspace only, as the parameters stay in flash"),
            ),
        };
        if total > *limit {
            errors.error(
                lit,
                format!(
                    "network `{name}` needs {} bytes of RAM {what}, over its budget of {} bytes by {}{breakdown}",
                    grouped(total),
                    grouped(*limit),
                    grouped(total - limit),
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn grouping() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1234567), "1,234,567");
    }
}
