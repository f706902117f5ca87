//! Fine-tunes the output layer of the digits MLP on the device: the hidden layer stays as
//! trained on the host (`#[frozen]`: no gradient, no optimizer state), the output layer is
//! reset and retrained with Adam on 100 digits compiled in, entirely in static memory.
//! Prints the loss of every epoch and the held-out accuracy before and after.
//!
//! `cargo run --release --bin train` from `firmware/` (QEMU, Cortex-M3).

#![no_std]
#![no_main]
// `deny`, not `forbid`: cortex-m's `singleton!` (the vetted way to get `&'static mut` to
// a static) allows its own internal `unsafe`; this file has none.
#![deny(unsafe_code)]

use cortex_m::singleton;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;
use sinew::optim::{Adam, AdamConfig};
use sinew_firmware::board::{self, Ticks};
use sinew_firmware::model::{
    BATCH, DigitsHead, DigitsHeadGrads, DigitsHeadTrainWorkspace, DigitsHeadWorkspace, EPOCHS, LEARNING_RATE,
    SAMPLE_BYTES, correct, finetune,
};

/// 100 training digits for fine-tuning and 50 held-out digits to evaluate.
static FINETUNE: &[u8] = include_bytes!("../../data/finetune.bin");
static HELDOUT: &[u8] = include_bytes!("../../data/heldout.bin");

#[entry]
fn main() -> ! {
    board::paint_stack();
    let ticks = Ticks::start(cortex_m::Peripherals::take().expect("first take").SYST);
    // Everything training needs, in statics (`.bss`), initialised once.
    let net = singleton!(: DigitsHead = DigitsHead::EMBEDDED).expect("first call");
    let tw = singleton!(: DigitsHeadTrainWorkspace<BATCH> = DigitsHeadTrainWorkspace::zeroed())
        .expect("first call");
    let adam = singleton!(: Adam<f32, DigitsHeadGrads> = Adam::new(AdamConfig::with_lr(LEARNING_RATE)))
        .expect("first call");
    let ws = singleton!(: DigitsHeadWorkspace<1> = DigitsHeadWorkspace::zeroed()).expect("first call");

    hprintln!(
        "sinew train: Adam on the output layer, {} of {} parameters trained, {} epochs of {} batches of {}",
        DigitsHead::<f32>::TRAINABLE_PARAMETERS,
        DigitsHead::<f32>::PARAMETERS,
        EPOCHS,
        FINETUNE.len() / SAMPLE_BYTES / BATCH,
        BATCH
    );
    hprintln!(
        "memory: parameters {} B, gradients {} B (hidden frozen), Adam state {} B, training workspace {} B (batch {}, gradients included)",
        DigitsHead::<f32>::PARAMETER_BYTES,
        DigitsHead::<f32>::GRADIENT_BYTES,
        DigitsHead::<f32>::ADAM_STATE_BYTES,
        DigitsHeadTrainWorkspace::<BATCH>::BYTES,
        BATCH
    );
    let n = HELDOUT.len() / SAMPLE_BYTES;
    hprintln!("before {}/{}", correct(net, ws, HELDOUT), n);
    let (result, t) = ticks.time(|| {
        finetune(net, adam, tw, FINETUNE, |epoch, loss| {
            hprintln!("epoch {} loss {:e}", epoch, loss);
        })
    });
    if let Err(e) = result {
        hprintln!("error: {}", e);
        debug::exit(debug::EXIT_FAILURE);
    }
    hprintln!("after {}/{}", correct(net, ws, HELDOUT), n);
    hprintln!("ticks {} for {} training steps", t, EPOCHS * FINETUNE.len() / SAMPLE_BYTES / BATCH);
    hprintln!("stack high-water {} B of {} B", board::stack_high_water(), board::stack_size());
    hprintln!("done");
    debug::exit(debug::EXIT_SUCCESS);
    // QEMU has exited; on a board without a debugger, sleep.
    loop {
        cortex_m::asm::wfi();
    }
}
