//! The character model of `examples/07-names` on the device: 10 first names sampled letter by
//! letter (temperature 1, seed 2026) with the weights in flash, the recurrent state carried
//! from step to step, nothing allocated. Prints each name with the SysTick ticks it took,
//! the ticks per character, the memory and the stack high-water mark; the host checks that
//! the names are those it samples from the same weights and seed. Needs `--features names`
//! and `weights/names.safetensors` (`cargo run --release --example 07-names -- --export
//! firmware/weights/names.safetensors` from the repository root).

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;
use sinew::generate::Generator;
use sinew_firmware::board::{self, Ticks};

sinew::network! {
    /// `examples/07-names.rs`'s network: the same declaration, the weights it wrote.
    #[weights("../../weights/names.safetensors")]
    pub struct Names {
        input: Tokens(12, vocab = 27),
        emb: Embedding(16),
        rnn: Gru(64),
        out: Dense(27, steps = all),
    }
}

/// The network, decoded from the weight file by the compiler: read in place from flash.
static NET: Names = Names::EMBEDDED;

/// The generator of this network: its state and scratch.
type NameGenerator = Generator<f32, Names_emb, Names_rnn, Names_out>;

#[entry]
fn main() -> ! {
    board::paint_stack();
    let ticks = Ticks::start(cortex_m::Peripherals::take().expect("first take").SYST);
    hprintln!("sinew names: {} parameters in flash", Names::<f32>::PARAMETERS);
    hprintln!(
        "memory: parameters {} B (flash), generator {} B",
        Names::<f32>::PARAMETER_BYTES,
        core::mem::size_of::<NameGenerator>()
    );
    let mut generator = NameGenerator::new();
    let mut rng = sinew::rng(2026);
    let mut letters = [0usize; 12];
    let (mut total, mut steps) = (0u32, 0u32);
    for _ in 0..10 {
        let (len, t) = ticks
            .time(|| generator.generate(&NET.emb, &NET.rnn, &NET.out, 0, 0, 1.0, &mut letters, &mut rng));
        let mut name = [0u8; 12];
        for (c, &l) in name.iter_mut().zip(&letters[..len]) {
            *c = b'a' + (l - 1) as u8;
        }
        hprintln!("name {} ticks {}", core::str::from_utf8(&name[..len]).expect("letters"), t);
        total += t;
        // Each letter is a step, and so is the end mark that stopped the name.
        steps += len as u32 + u32::from(len < letters.len());
    }
    hprintln!("ticks per character {} ({} steps)", total / steps, steps);
    hprintln!("stack high-water {} B of {} B", board::stack_high_water(), board::stack_size());
    hprintln!("done");
    debug::exit(debug::EXIT_SUCCESS);
    // QEMU has exited; on a board without a debugger, sleep.
    loop {
        cortex_m::asm::wfi();
    }
}
