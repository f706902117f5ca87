//! Classifies 10 held-out digits with the weights in flash and prints the class, the
//! probabilities and the SysTick ticks of each inference, then the accuracy on all 50
//! held-out digits, the memory the network uses and the stack high-water mark.
//!
//! `cargo run --release --bin infer` from `firmware/` (QEMU, Cortex-M3).

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;
use sinew_firmware::board::{self, Ticks};
use sinew_firmware::model::{Digits, DigitsWorkspace, SAMPLE_BYTES, classify, correct, label};

/// The network, decoded from the weight file by the compiler: read in place from flash.
static NET: Digits = Digits::EMBEDDED;
/// 50 held-out test digits (label byte + 64 pixel bytes each).
static HELDOUT: &[u8] = include_bytes!("../../data/heldout.bin");

#[entry]
fn main() -> ! {
    board::paint_stack();
    let ticks = Ticks::start(cortex_m::Peripherals::take().expect("first take").SYST);
    hprintln!("sinew infer: {} parameters in flash, 10 held-out digits", Digits::<f32>::PARAMETERS);
    hprintln!(
        "memory: parameters {} B (flash), workspace {} B (batch 1)",
        Digits::<f32>::PARAMETER_BYTES,
        DigitsWorkspace::<1>::BYTES
    );
    let mut ws = DigitsWorkspace::<1>::zeroed();
    let mut total = 0u32;
    for (i, sample) in HELDOUT.chunks_exact(SAMPLE_BYTES).take(10).enumerate() {
        let ((class, p), t) = ticks.time(|| classify(&NET, &mut ws, sample));
        total += t;
        hprintln!(
            "sample {} label {} class {} ticks {} p {:e} {:e} {:e} {:e} {:e} {:e} {:e} {:e} {:e} {:e}",
            i,
            label(sample),
            class,
            t,
            p[0],
            p[1],
            p[2],
            p[3],
            p[4],
            p[5],
            p[6],
            p[7],
            p[8],
            p[9]
        );
    }
    hprintln!("ticks per inference {}", total / 10);
    // The same 10 samples through the same network written by hand with nalgebra.
    let mut baseline = 0u32;
    for sample in HELDOUT.chunks_exact(SAMPLE_BYTES).take(10) {
        let ((class, _), t) = ticks.time(|| sinew_firmware::baseline::classify(&NET, sample));
        baseline += t;
        assert_eq!(class, classify(&NET, &mut ws, sample).0, "the baseline disagrees");
    }
    hprintln!("baseline ticks per inference {} (hand-written nalgebra)", baseline / 10);
    let n = HELDOUT.len() / SAMPLE_BYTES;
    hprintln!("accuracy {}/{}", correct(&NET, &mut ws, HELDOUT), n);
    hprintln!("stack high-water {} B of {} B", board::stack_high_water(), board::stack_size());
    hprintln!("done");
    debug::exit(debug::EXIT_SUCCESS);
    // QEMU has exited; on a board without a debugger, sleep.
    loop {
        cortex_m::asm::wfi();
    }
}
