package calibrate

// The LLVM guest is checked in (a few hundred bytes) so that calibrating needs
// no C toolchain; regenerate it with clang and wasm-ld (Debian: clang, lld).
// TestLLVMGuestUpToDate rebuilds it when clang is on PATH and compares.
//go:generate clang --target=wasm32 -nostdlib -Oz -Wl,--no-entry -o guest/fib-llvm-oz.wasm guest/fib.c
