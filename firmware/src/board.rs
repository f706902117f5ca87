//! Timing with SysTick and the stack high-water mark.

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;

/// SysTick counts down from this (its 24 bits) and wraps.
const RELOAD: u32 = 0x00FF_FFFF;

/// A free-running SysTick on the core clock. Under QEMU with `-icount shift=0`, one tick is
/// a fixed number of instructions (80 on lm3s6965evb, 40 on mps2).
pub struct Ticks {
    _syst: SYST,
}

impl Ticks {
    /// Starts SysTick (it is never stopped).
    pub fn start(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_counter();
        Ticks { _syst: syst }
    }

    /// Runs `f` and returns its result and the ticks it took (less than 2^24 of them).
    pub fn time<R>(&self, f: impl FnOnce() -> R) -> (R, u32) {
        let before = SYST::get_current();
        let result = f();
        let after = SYST::get_current();
        (result, before.wrapping_sub(after) & RELOAD)
    }
}

/// Paints the free stack (below the current stack pointer) so that
/// [`stack_high_water`] can tell how deep it was used afterwards.
pub fn paint_stack() {
    cortex_m_stack::repaint_stack();
}

/// Bytes of stack used at the deepest since [`paint_stack`] (out of
/// [`stack_size`]): the lowest word that is no longer painted.
pub fn stack_high_water() -> u32 {
    cortex_m_stack::stack_size() - cortex_m_stack::stack_painted()
}

/// Bytes reserved for the stack: the RAM the statics leave.
pub fn stack_size() -> u32 {
    cortex_m_stack::stack_size()
}
