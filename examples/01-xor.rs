//! Learns XOR with a 2 -> 8 tanh -> 1 network, printing the loss curve as text and the
//! four predictions.
//!
//! ```sh
//! cargo run --release --example 01-xor
//! ```

use sinew::prelude::*;

network! {
    /// Two inputs, one logit: is exactly one input set?
    pub struct Xor {
        input: 2,
        hidden: Dense(8) -> Tanh,
        out: Dense(1),
    }
}

fn main() -> Result<(), sinew::NonFiniteLoss> {
    // The four cases, one per column.
    let x = XorInput::<4>::from_column_slice(&[0., 0., 0., 1., 1., 0., 1., 1.]);
    let y = XorOutput::<4>::from_column_slice(&[0., 1., 1., 0.]);

    let mut rng = sinew::rng(7);
    let mut net = Xor::<f32>::init(&mut rng);
    let mut adam = Adam::new(AdamConfig::with_lr(0.05));
    let mut tw = XorTrainWorkspace::<4>::zeroed();

    println!("{}\n", Xor::<f32>::SUMMARY);
    println!("step   loss");
    let steps = 300;
    let mut first = None;
    for step in 1..=steps {
        let loss = net.train_step(&x, &y, &SigmoidBinaryCrossEntropy, &mut adam, &mut tw, &mut rng)?;
        let first = *first.get_or_insert(loss);
        if step == 1 || step % 20 == 0 {
            // One bar per printed step, its length proportional to the loss.
            let bar = "#".repeat((50.0 * loss / first).round() as usize);
            println!("{step:>4}  {loss:.4}  {bar}");
        }
    }

    let mut ws = XorWorkspace::<4>::zeroed();
    let logits = net.forward(&x, &mut ws);
    println!("\n a  b  | p(a xor b)  predicted  expected");
    let mut correct = 0;
    for j in 0..4 {
        let p = 1.0 / (1.0 + (-logits[j]).exp());
        let predicted = u8::from(p > 0.5);
        correct += usize::from(f32::from(predicted) == y[j]);
        println!(" {}  {}  |   {p:.4}        {predicted}         {}", x[(0, j)], x[(1, j)], y[j]);
    }
    println!("\n{correct}/4 correct");
    assert_eq!(correct, 4, "XOR was not learned");
    Ok(())
}
