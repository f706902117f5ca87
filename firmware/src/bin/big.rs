//! A 784-128-10 MLP (101,770 parameters, 407 KB of weights in flash): CI measures how long
//! this firmware takes to build (the weights are decoded by the compiler) and how many
//! ticks one inference takes. Needs `--features big` (the mps2 memory map) and the file
//! `weights/big.safetensors` (`cargo run --release --example 04-firmware -- big-weights
//! firmware/weights/big.safetensors` from the repository root).

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;
use sinew_firmware::board::{self, Ticks};

sinew::network! {
    /// The MNIST MLP.
    #[weights("../../weights/big.safetensors")]
    #[budget(flash = 400K, ram = 1K)]
    pub struct Big {
        input: 784,
        hidden: Dense(128) -> Relu,
        out: Dense(10),
    }
}

static NET: Big = Big::EMBEDDED;

#[entry]
fn main() -> ! {
    board::paint_stack();
    let ticks = Ticks::start(cortex_m::Peripherals::take().expect("first take").SYST);
    let x = BigInput::<1>::from_fn(|r, _| ((r * 37) % 256) as f32 / 255.0);
    let mut ws = BigWorkspace::<1>::zeroed();
    let (class, t) = ticks.time(|| sinew::metrics::predicted_class(NET.forward(&x, &mut ws).as_slice(), 0.5));
    hprintln!("big: {} parameters, {} B in flash", Big::<f32>::PARAMETERS, Big::<f32>::PARAMETER_BYTES);
    hprintln!("class {} ticks {}", class, t);
    hprintln!("stack high-water {} B of {} B", board::stack_high_water(), board::stack_size());
    hprintln!("done");
    debug::exit(debug::EXIT_SUCCESS);
    // QEMU has exited; on a board without a debugger, sleep.
    loop {
        cortex_m::asm::wfi();
    }
}
